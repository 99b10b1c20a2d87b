import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Io } from '../src/cli/io.js';
import { inspect, verify } from '../src/cli/inspect.js';
import { appleKeys, checkAgainstApple } from './helpers/apple-schema.js';
import { HEADER, listTree, loadWithPlistlib, mdmgen, ROOT, snapshotTree, tempDir, untag, writeFleet, type Tagged } from './helpers/helpers.js';
import { makePki } from './helpers/pki.js';

const pki = makePki();
const p = pki.path;
const DAY = 86_400_000;
const at = (days: number) => ({ MDMGEN_NOW: new Date(Date.now() + days * DAY).toISOString() });

const PREFS = 'preferences:\n  com.microsoft.Messenger:\n    DisallowSave: true\n  com.apple.iChat:\n    Greeting: "Café Zürich 東京"\n';
const signing = (extra = '') => `signing:\n  certificate: ${p('leaf.pem')}\n  key: ${p('leaf.key')}\n  chain: [${p('int.pem')}]\n${extra}`;
const trust = (...files: string[]) => `trust:\n${files.map((f) => `  - file: ${f}\n`).join('')}`;

function build(body: string, env: NodeJS.ProcessEnv = {}) {
  const fleet = writeFleet(`${HEADER}${PREFS}${body}`);
  const out = join(tempDir(), 'out');
  return { ...mdmgen(['build', fleet, '-o', out], { env }), out, fleet };
}

function opensslVerify(file: string, ca: string, purpose: string[] = ['-purpose', 'any']): { ok: boolean; content: Buffer; stderr: string } {
  const r = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', file, '-CAfile', ca, ...purpose], { maxBuffer: 1 << 26 });
  return { ok: r.status === 0, content: r.stdout, stderr: r.stderr.toString() };
}

test('trust anchors: a PEM bundle with junk and CRLF, the same CA as DER, and an EC root give one anchor each, in order', () => {
  const bundle = join(tempDir(), 'bundle.pem');
  const crlf = (f: string) => readFileSync(p(f), 'utf8').replace(/\n/g, '\r\n');
  writeFileSync(bundle, `Bag Attributes: friendlyName\n${crlf('root.pem')}some text between blocks\n${crlf('int.pem')}\n${crlf('other.pem')}`);
  const r = build(trust(bundle, p('root.der'), p('ecroot.pem')));
  assert.equal(r.code, 0, r.stderr);
  const files = listTree(join(r.out, 'certificates'));
  assert.deepEqual(files, ['Other-Root-CA.cer', 'Test-EC-Root.cer', 'Test-Intermediate-CA.cer', 'Test-Root-CA.cer', 'anchors.pem']);
  const subjects = execFileSync('sh', ['-c', `openssl crl2pkcs7 -nocrl -certfile "${join(r.out, 'certificates/anchors.pem')}" | openssl pkcs7 -print_certs -noout`]).toString();
  assert.deepEqual([...subjects.matchAll(/subject=CN = (.+)/g)].map((m) => m[1]), ['Test Root CA', 'Test Intermediate CA', 'Other Root CA', 'Test EC Root']);
  const der = execFileSync('openssl', ['x509', '-inform', 'DER', '-in', join(r.out, 'certificates/Test-EC-Root.cer'), '-noout', '-subject']).toString();
  assert.match(der, /CN = Test EC Root/);

  const profile = loadWithPlistlib(join(r.out, 'profiles/trust.mobileconfig')) as Extract<Tagged, { type: 'dict' }>;
  assert.deepEqual(checkAgainstApple(profile, appleKeys('TopLevel'), 'trust'), []);
  const payloads = (profile.value.PayloadContent as Extract<Tagged, { type: 'array' }>).value as Extract<Tagged, { type: 'dict' }>[];
  assert.equal(payloads.length, 4);
  for (const payload of payloads) assert.deepEqual(checkAgainstApple(payload, [...appleKeys('CommonPayloadKeys'), ...appleKeys('com.apple.security.root')], 'payload'), []);
  const root = payloads.find((x) => (x.value.PayloadDisplayName as { value: string }).value === 'Test Root CA')!;
  assert.equal((root.value.PayloadContent as { value: string }).value, readFileSync(p('root.der')).toString('base64'), 'PayloadContent is exactly the DER bytes');
  const manifest = JSON.parse(readFileSync(join(r.out, 'manifest.json'), 'utf8')) as { artifacts: { path: string; kind: string }[] };
  assert.deepEqual(manifest.artifacts.filter((a) => a.kind === 'certificate').map((a) => a.path), files.map((f) => `certificates/${f}`));
});

test('trust anchors refused: not a CA, expired, pin mismatch, trailing DER bytes, a TRUSTED CERTIFICATE block', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'trailing.der'), Buffer.concat([readFileSync(p('root.der')), Buffer.from([0, 0])]));
  writeFileSync(join(dir, 'trusted.pem'), readFileSync(p('root.pem'), 'utf8').replace(/CERTIFICATE/g, 'TRUSTED CERTIFICATE'));
  let nested = Buffer.alloc(0); // 10,000 SEQUENCEs inside each other (CVE-2025-66031's shape)
  for (let i = 0; i < 10_000; i++) {
    const n = nested.length;
    const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
    nested = Buffer.concat([Buffer.from([0x30, ...length]), nested]);
  }
  writeFileSync(join(dir, 'nested.der'), nested);
  const cases: [string, NodeJS.ProcessEnv, RegExp][] = [
    [trust(p('notca.pem')), {}, /is not a CA certificate .* trust\/not-ca/],
    [trust(p('root.pem')), at(4000), /"Test Root CA"\) expired on \d{4}-\d\d-\d\d {2}trust\/expired/],
    [`trust:\n  - { file: ${p('root.pem')}, sha256: "${'ab'.repeat(32)}" }\n`, {}, /has SHA-256 [0-9a-f]{64}, not the pinned one {2}trust\/pin-mismatch/],
    [trust(join(dir, 'trailing.der')), {}, /trailing\.der: the certificate is followed by 2 unexpected bytes {2}trust\/unreadable/],
    [trust(join(dir, 'trusted.pem')), {}, /block 1 is "TRUSTED CERTIFICATE"/],
    [trust(join(dir, 'nested.der')), {}, /nested\.der: the certificate cannot be parsed as an X\.509 certificate {2}trust\/unreadable/],
  ];
  for (const [body, env, expected] of cases) {
    const r = build(body, env);
    assert.equal(r.code, 2, body);
    assert.match(r.stderr, expected);
    assert.throws(() => readdirSync(r.out), 'nothing written');
  }
  const pinned = build(`trust:\n  - { file: ${p('root.pem')}, sha256: "${execFileSync('openssl', ['x509', '-in', p('root.pem'), '-noout', '-fingerprint', '-sha256']).toString().split('=')[1]!.trim()}" }\n`);
  assert.equal(pinned.code, 0, pinned.stderr);
  const expiring = build(trust(p('short.pem')));
  assert.equal(expiring.code, 0);
  assert.match(expiring.stderr, /"Short Lived CA"\) expires on .*, in \d+ days {2}trust\/expiring/);
});

test('every profile is signed: OpenSSL verifies each, and the content it extracts is the unsigned profile, byte for byte', () => {
  const unsigned = build(trust(p('root.pem')));
  const signed = build(trust(p('root.pem')) + signing());
  assert.equal(signed.code, 0, signed.stderr);
  assert.match(signed.stdout, /Wrote 2 signed profiles/);
  const manifest = JSON.parse(readFileSync(join(signed.out, 'manifest.json'), 'utf8')) as { artifacts: { path: string; kind: string; signed?: boolean }[] };
  const profiles = manifest.artifacts.filter((a) => a.kind === 'profile');
  assert.deepEqual(profiles.map((a) => [a.path, a.signed]), [['profiles/base.mobileconfig', true], ['profiles/trust.mobileconfig', true]]);
  for (const { path } of profiles) {
    const result = opensslVerify(join(signed.out, path), p('root.pem'));
    assert.ok(result.ok, `${path}: ${result.stderr}`);
    assert.ok(result.content.equals(readFileSync(join(unsigned.out, path))), `${path}: extracted content differs`);
  }
  assert.match(readFileSync(join(unsigned.out, 'profiles/base.mobileconfig'), 'utf8'), /Café Zürich 東京/);
  const printed = execFileSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', join(signed.out, 'profiles/base.mobileconfig')]).toString();
  assert.match(printed, /sha256/);
  assert.doesNotMatch(printed, /signingTime/, 'no signingTime unless asked for');
  assert.equal((printed.match(/subject: CN=/g) ?? []).length, 2, 'signer and intermediate embedded');
});

test('the same input gives identical signed bytes (RSA); signingTime only when asked for', () => {
  const fleet = writeFleet(`${HEADER}${PREFS}${signing()}`);
  const a = join(tempDir(), 'a');
  const b = join(tempDir(), 'b');
  assert.equal(mdmgen(['build', fleet, '-o', a]).code, 0);
  assert.equal(mdmgen(['build', fleet, '-o', b], { env: { TZ: 'Asia/Tokyo' } }).code, 0);
  assert.deepEqual(snapshotTree(a), snapshotTree(b));
  const timed = build(signing('  signingTime: true\n'));
  const printed = execFileSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', join(timed.out, 'profiles/base.mobileconfig')]).toString();
  assert.match(printed, /signingTime/);
});

test('PKCS#12 identities, modern AES and legacy 3DES, open with the passphrase from the environment', () => {
  for (const file of ['leaf-aes.p12', 'leaf-legacy.p12']) {
    const r = build(`signing:\n  pkcs12: ${p(file)}\n  passphrase: { env: P12_PASSPHRASE }\n`, { P12_PASSPHRASE: pki.passphrase });
    assert.equal(r.code, 0, `${file}: ${r.stderr}`);
    assert.ok(opensslVerify(join(r.out, 'profiles/base.mobileconfig'), p('root.pem')).ok, file);
  }
});

test('an EC signer signs, and OpenSSL verifies it', () => {
  const r = build(`signing:\n  certificate: ${p('ecleaf.pem')}\n  key: ${p('ecleaf.key')}\n`);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(opensslVerify(join(r.out, 'profiles/base.mobileconfig'), p('ecroot.pem')).ok);
  const verify = mdmgen(['verify', join(r.out, 'profiles/base.mobileconfig'), '--ca', p('ecroot.pem')]);
  assert.equal(verify.code, 0, verify.stdout);
});

test('a signing identity Macs would reject is refused before anything is written, exit 2, passphrase never echoed', () => {
  // The leaf with its keyUsage extension made unreadable (as in the verify test), which OpenSSL loads.
  const leafDer = Buffer.from(readFileSync(p('leaf.pem'), 'latin1').replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
  leafDer[leafDer.indexOf(Buffer.from('551d0f0101ff040403020780', 'hex')) + 9] = 0x05;
  const badKeyUsage = join(tempDir(), 'bad-keyusage.der');
  writeFileSync(badKeyUsage, leafDer);
  const encryptedKey = join(tempDir(), 'leaf-encrypted.key');
  execFileSync('openssl', ['pkey', '-in', p('leaf.key'), '-aes256', '-passout', 'pass:S3cr3t-SENTINEL', '-out', encryptedKey]);
  const cases: [string, NodeJS.ProcessEnv, RegExp][] = [
    [`signing:\n  certificate: ${badKeyUsage}\n  key: ${p('leaf.key')}\n`, {}, /the certificate "Profile Signer" has a malformed extension 2\.5\.29\.15 {2}signing\/invalid/],
    [signing(), at(400), /the signing certificate "Profile Signer" expired on \d{4}-\d\d-\d\d; Macs treat a profile signed with it as unsigned {2}signing\/invalid/],
    [signing(), at(-3), /the signing certificate "Profile Signer" is not valid before \d{4}-\d\d-\d\d/],
    [`signing:\n  certificate: ${p('enc.pem')}\n  key: ${p('enc.key')}\n`, {}, /keyUsage without digitalSignature/],
    [`signing:\n  certificate: ${p('leaf.pem')}\n  key: ${p('enc.key')}\n`, {}, /the signing key does not belong to the signing certificate "Profile Signer"/],
    [`signing:\n  pkcs12: ${p('leaf-aes.p12')}\n  passphrase: { env: P12_PASSPHRASE }\n`, { P12_PASSPHRASE: `wrong-${pki.passphrase}` }, /the passphrase does not open the PKCS#12 file {2}signing\/passphrase/],
    [`signing:\n  pkcs12: ${p('leaf-legacy.p12')}\n  passphrase: { env: P12_PASSPHRASE }\n`, {}, /signing\.passphrase: the environment variable P12_PASSPHRASE is not set {2}secret\/missing/],
    [`signing:\n  pkcs12: ${p('leaf-aes.p12')}\n`, {}, /the PKCS#12 file needs a passphrase/],
    [`signing:\n  certificate: ${p('leaf.pem')}\n  key: ${encryptedKey}\n`, {}, /the signing key is encrypted and no passphrase is configured {2}signing\/passphrase/],
    [`signing:\n  certificate: ${p('edleaf.pem')}\n  key: ${p('edleaf.key')}\n  chain: [${p('int.pem')}]\n`, {}, /the signing key is ed25519; RSA and EC keys are supported {2}signing\/invalid/],
  ];
  for (const [body, env, expected] of cases) {
    const r = build(body, env);
    assert.equal(r.code, 2, `${body}\n${r.stderr}`);
    assert.match(r.stderr, expected);
    assert.doesNotMatch(r.stdout + r.stderr, /SENTINEL|\n\s+at /);
    assert.throws(() => readdirSync(r.out), 'nothing written');
  }
});

test('warnings: the signer expires within 30 days, and a chain that does not reach a root', () => {
  const soon = build(trust(p('root.pem')) + signing(), at(350));
  assert.equal(soon.code, 0, soon.stderr);
  assert.match(soon.stderr, /"Profile Signer" expires on .* \(in 1[0-9] days\); installed profiles then show as Unverified {2}signing\/expiring/);
  const noChain = build(`signing:\n  certificate: ${p('leaf.pem')}\n  key: ${p('leaf.key')}\n`);
  assert.equal(noChain.code, 0);
  assert.match(noChain.stderr, /does not reach a self-signed root.*signing\/incomplete-chain/);
  const anchored = build(trust(p('root.pem')) + signing());
  assert.doesNotMatch(anchored.stderr, /incomplete-chain/, 'the trust anchor completes the chain');
  // A signer without key identifiers, and in its chain a CA of its issuer's name whose key did not sign it.
  const forged = build(trust(p('root.pem')) + `signing:\n  certificate: ${p('forgedleaf.pem')}\n  key: ${p('forgedleaf.key')}\n  chain: [${p('int.pem')}]\n`);
  assert.equal(forged.code, 0, forged.stderr);
  assert.match(forged.stderr, /does not reach a self-signed root.*signing\/incomplete-chain/, 'a name is not an issuer: its signature is checked');
  assert.doesNotMatch(anchored.stderr + forged.stderr, /ca-signer/, 'a leaf signer is no CA');
  // A CA's own key signing: the profiles are valid (OpenSSL agrees), and both the build and verify say so.
  const byCa = build(`signing:\n  certificate: ${p('quick.pem')}\n  key: ${p('quick.key')}\n`);
  assert.equal(byCa.code, 0, byCa.stderr);
  assert.match(byCa.stderr, /the signing certificate "Quick Signer" is a CA certificate \(basicConstraints CA:TRUE\); sign with a certificate it issues.* {2}signing\/ca-signer/);
  const profile = join(byCa.out, 'profiles/base.mobileconfig');
  assert.equal(opensslVerify(profile, p('quick.pem')).ok, true);
  const verified = mdmgen(['verify', profile, '--ca', p('quick.pem')]);
  assert.equal(verified.code, 0, verified.stdout);
  assert.match(verified.stdout, /: valid signature\n {2}warning: {4}the signer "Quick Signer" is a CA certificate/);
});

test('verify agrees with OpenSSL: valid, tampered, unknown CA, incomplete chain, expired or not yet valid signer, wrong keyUsage, forged issuers, an issuer that is no CA, unsigned, garbage', () => {
  const r = build(signing());
  const good = join(r.out, 'profiles/base.mobileconfig');
  const ok = mdmgen(['verify', good, '--ca', p('root.pem')]);
  assert.equal(ok.code, 0, ok.stdout);
  assert.match(ok.stdout, /valid signature\n {2}signer: {5}Profile Signer .*\n {2}issued by: {2}Test Intermediate CA .*\n {2}issued by: {2}Test Root CA .*\n {2}trust: {6}the chain ends at a CA given with --ca\n {2}digest: {5}sha256\n {2}identifier: com\.example\.im\.preferences\n/);
  assert.equal(mdmgen(['verify', good]).code, 0, 'without --ca: signature checked, trust not decided');

  const dir = tempDir();
  const content = join(dir, 'content.xml');
  writeFileSync(content, readFileSync(join(build('').out, 'profiles/base.mobileconfig')));
  const opensslSign = (name: string, cert: string, key: string, extra: string[] = []) => {
    execFileSync('openssl', ['cms', '-sign', '-binary', '-nodetach', '-md', 'sha256', '-signer', cert, '-inkey', key, ...extra, '-outform', 'DER', '-in', content, '-out', join(dir, name)]);
    return join(dir, name);
  };
  const byOpenssl = opensslSign('openssl.mobileconfig', p('leaf.pem'), p('leaf.key'), ['-certfile', p('int.pem')]);
  assert.equal(mdmgen(['verify', byOpenssl, '--ca', p('root.pem')]).code, 0, 'a profile signed by openssl cms -sign passes');
  // RFC 5652 5.3: a signer named by subjectKeyIdentifier, a [0] like the signed attributes after it (this was an internal error).
  const byKeyId = opensslSign('keyid.mobileconfig', p('leaf.pem'), p('leaf.key'), ['-certfile', p('int.pem'), '-keyid']);
  assert.equal(mdmgen(['verify', byKeyId, '--ca', p('root.pem')]).code, 0, 'a profile signed by openssl cms -sign -keyid passes');

  const tampered = join(dir, 'tampered.mobileconfig');
  const bytes = readFileSync(good);
  const i = bytes.indexOf('DisallowSave');
  bytes[i] = bytes[i]! ^ 0x20;
  writeFileSync(tampered, bytes);
  // The signer's keyUsage extension made unreadable (its BIT STRING claims 5 bytes of 2): OpenSSL accepts
  // such a certificate until it is used, and forge's parse of it was an internal error.
  const badKeyUsage = join(dir, 'bad-keyusage.mobileconfig');
  const signed = readFileSync(good);
  const keyUsageAt = signed.indexOf(Buffer.from('551d0f0101ff040403020780', 'hex'));
  assert.ok(keyUsageAt > 0, 'the signer\'s keyUsage: critical, digitalSignature');
  signed[keyUsageAt + 9] = 0x05;
  writeFileSync(badKeyUsage, signed);
  // openssl cms -sign takes one -certfile: a chain of two in one file.
  const bundle = join(dir, 'notca-chain.pem');
  writeFileSync(bundle, Buffer.concat([readFileSync(p('notca-issuer.pem')), readFileSync(p('int.pem'))]));
  // OpenSSL judges a keyUsage without digitalSignature only under its default S/MIME purpose; with
  // -purpose any it accepts it, which is why mdmgen checks keyUsage itself.
  const checks: [string, string[], NodeJS.ProcessEnv, number, RegExp][] = [
    [tampered, ['--ca', p('root.pem')], {}, 1, /INVALID: the content digest does not match/],
    [good, ['--ca', p('other.pem')], {}, 1, /INVALID: the chain ends at "Test Root CA", which is not a CA given with --ca|INVALID: the chain is incomplete/],
    [opensslSign('nochain.mobileconfig', p('leaf.pem'), p('leaf.key')), ['--ca', p('root.pem')], {}, 1, /INVALID: the chain is incomplete: no certificate for the issuer of "Profile Signer"/],
    [good, ['--ca', p('root.pem')], at(400), 1, /INVALID: "Profile Signer" expired on/],
    [opensslSign('enc.mobileconfig', p('enc.pem'), p('enc.key'), ['-certfile', p('int.pem')]), ['--ca', p('root.pem')], {}, 1, /INVALID: the signer's keyUsage does not allow digitalSignature/],
    [content, [], {}, 1, /INVALID: the profile is not signed/],
    [badKeyUsage, ['--ca', p('root.pem')], {}, 1, /the certificate "Profile Signer" has a malformed extension 2\.5\.29\.15/],
    [good, ['--ca', p('root.pem')], at(-30), 1, /"Profile Signer" is not valid before/],
    // A signer whose issuer bears the real intermediate's name, with the real intermediate (public) embedded.
    [opensslSign('forgedint.mobileconfig', p('forgedleaf.pem'), p('forgedleaf.key'), ['-certfile', p('int.pem')]), ['--ca', p('root.pem')], {}, 1, /INVALID: the chain is incomplete: no certificate for the issuer of "Profile Signer"/],
    // A root that bears the name of the CA given with --ca, but not its key.
    [opensslSign('forgedroot.mobileconfig', p('forgedrootleaf.pem'), p('forgedrootleaf.key'), ['-certfile', p('forgedroot.pem')]), ['--ca', p('root.pem')], {}, 1, /INVALID: the chain ends at "Test Root CA", which is not a CA given with --ca/],
    [opensslSign('notca.mobileconfig', p('notca-leaf.pem'), p('notca-leaf.key'), ['-certfile', bundle]), ['--ca', p('root.pem')], {}, 1, /INVALID: "Not A CA Issuer" issued a certificate of the chain but is not a CA/],
  ];
  const alone = new Map<string, string>();
  for (const [file, args, env, code, expected] of checks) {
    const run = mdmgen(['verify', file, ...args], { env });
    assert.equal(run.code, code, `${file} ${args.join(' ')}: ${run.stdout}${run.stderr}`);
    assert.match(run.stdout, expected);
    const purpose = file.endsWith('enc.mobileconfig') ? [] : ['-purpose', 'any'];
    const when = env.MDMGEN_NOW ? ['-attime', String(Math.floor(Date.parse(env.MDMGEN_NOW) / 1000))] : [];
    assert.equal(opensslVerify(file, args[1] ?? p('root.pem'), [...purpose, ...when]).ok, false, `openssl agrees that ${file} is not valid`);
    if (args.join(' ') === `--ca ${p('root.pem')}` && !env.MDMGEN_NOW) alone.set(file, run.stdout);
  }
  // All at once, with the good one between them: each verdict is the one it had alone (verify keeps the
  // certificates and links it has checked, and a forged look-alike must not pass for the real one).
  const together = [...new Set(alone.keys())];
  const all = mdmgen(['verify', together[0]!, good, ...together.slice(1), '--ca', p('root.pem')]);
  assert.equal(all.code, 1, all.stderr);
  assert.equal(all.stdout, [alone.get(together[0]!)!, `${good}: valid signature\n`, ...together.slice(1).map((f) => alone.get(f)!), `${together.length + 1} profiles: 1 valid, ${together.length} invalid; each chain checked against --ca\n`].join(''));
  writeFileSync(join(dir, 'garbage'), Buffer.from([0x30, 0x82, 0xff, 0xff, 1, 2, 3]));
  const garbage = mdmgen(['verify', join(dir, 'garbage')]);
  assert.equal(garbage.code, 1, 'not CMS at all: not signed');
  writeFileSync(join(dir, 'broken.mobileconfig'), readFileSync(good).subarray(0, 500));
  const broken = mdmgen(['verify', join(dir, 'broken.mobileconfig')]);
  assert.equal(broken.code, 2);
  assert.match(broken.stderr, /not DER-encoded CMS/);
});

test('verify FOLDER: every .mobileconfig beneath it, a line for each valid one, the whole verdict for the others, then a count', () => {
  const r = build(`${signing()}${trust(p('root.pem'))}`);
  assert.equal(r.code, 0, r.stderr);
  const profiles = join(r.out, 'profiles');
  const valid = mdmgen(['verify', r.out, '--ca', p('root.pem')]);
  assert.deepEqual([valid.code, valid.stderr], [0, '']);
  assert.equal(valid.stdout, `${profiles}/base.mobileconfig: valid signature\n${profiles}/trust.mobileconfig: valid signature\n2 profiles: 2 valid, 0 invalid; each chain checked against --ca\n`);
  for (const name of ['base', 'trust']) assert.ok(opensslVerify(join(profiles, `${name}.mobileconfig`), p('root.pem')).ok, 'openssl agrees');

  const bytes = readFileSync(join(profiles, 'base.mobileconfig'));
  const tampered = Buffer.from(bytes);
  const at = tampered.indexOf('DisallowSave');
  tampered[at] = tampered[at]! ^ 0x20;
  mkdirSync(join(profiles, 'more/empty'), { recursive: true });
  writeFileSync(join(profiles, 'more/tampered.mobileconfig'), tampered);
  writeFileSync(join(profiles, 'more/unsigned.mobileconfig'), readFileSync(join(build('').out, 'profiles/base.mobileconfig')));
  writeFileSync(join(profiles, 'more/notes.txt'), 'not a profile');
  const invalid = mdmgen(['verify', profiles, '--ca', p('root.pem')]);
  assert.equal(invalid.code, 1, invalid.stderr);
  const lines = invalid.stdout.split('\n');
  assert.deepEqual(lines.filter((l) => l.startsWith('/')), [
    `${profiles}/base.mobileconfig: valid signature`,
    `${profiles}/more/tampered.mobileconfig: INVALID: the content digest does not match: the profile was changed after signing`,
    `${profiles}/more/unsigned.mobileconfig: INVALID: the profile is not signed`,
    `${profiles}/trust.mobileconfig: valid signature`,
  ]);
  assert.ok(lines.includes('  identifier: com.example.im.preferences'), 'the tampered one is described in full');
  assert.equal(lines.at(-2), '4 profiles: 2 valid, 2 invalid; each chain checked against --ca');

  // A profile that is not CMS at all is said on stderr, the others still verified, and exit 2.
  writeFileSync(join(profiles, 'more/cut.mobileconfig'), bytes.subarray(0, 500));
  const unreadable = mdmgen(['verify', profiles]);
  assert.equal(unreadable.code, 2);
  assert.match(unreadable.stderr, /^mdmgen: \/.*\/more\/cut\.mobileconfig: not DER-encoded CMS/);
  assert.match(unreadable.stdout, /\n5 profiles: 2 valid, 2 invalid, 1 unreadable; trust not checked \(give the root with --ca\)\n$/);

  for (const [path, message] of [[join(profiles, 'more/empty'), /more\/empty: no \.mobileconfig in this folder\n$/], [join(profiles, 'nowhere'), /cannot read .*nowhere: no such file/]] as const) {
    const refused = mdmgen(['verify', path, join(profiles, 'base.mobileconfig')]);
    assert.deepEqual([refused.code, refused.stdout], [2, ''], 'a PATH that names no profile stops the run before any is verified');
    assert.match(refused.stderr, message);
  }
});

test('random mutations of a signed profile: inspect and verify answer 0, 1 or 2 with a reason, never an internal error', { timeout: 120_000 }, async () => {
  const signed = readFileSync(join(build(signing()).out, 'profiles/base.mobileconfig'));
  const file = join(tempDir(), 'mutated.mobileconfig');
  const said: string[] = [];
  const io: Io = { stdout: (t) => void said.push(t), stderr: (t) => void said.push(t), cwd: '/', env: {}, stdoutIsTTY: false, stderrIsTTY: false, now: () => new Date() };
  // Half the edits in the last 600 bytes, where the signer info is (its sid, attributes and signature).
  const edit = fc.tuple(fc.boolean(), fc.nat(), fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 0x02, 0x04, 0x30, 0x80, 0x81, 0xa0, 0xff)));
  await fc.assert(fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 4 }), fc.nat(), async (edits, cut) => {
    const bytes = Buffer.from(signed);
    for (const [end, n, byte] of edits) bytes[end ? bytes.length - 1 - (n % 600) : n % bytes.length] = byte;
    writeFileSync(file, cut % 4 === 0 ? bytes.subarray(0, cut % bytes.length) : bytes);
    for (const code of [await inspect(io, file, { format: 'json' }), await verify(io, [file], { ca: [p('root.pem')] })]) {
      assert.ok(code === 0 || code === 1 || code === 2, String(code));
    }
  }), { numRuns: 1500 });
  assert.ok(said.length >= 3000, 'every run said something');
});

test('inspect prints XML, binary and signed plists as data; malformed input exits 2 with the reason', () => {
  const r = build(signing());
  const signed = mdmgen(['inspect', join(r.out, 'profiles/base.mobileconfig')]);
  assert.equal(signed.code, 0, signed.stderr);
  const out = JSON.parse(signed.stdout) as { signature: { valid: boolean; signer: string }; format: string; content: { PayloadIdentifier: string } };
  assert.deepEqual([out.signature.valid, out.signature.signer, out.format, out.content.PayloadIdentifier], [true, 'CN=Profile Signer', 'xml', 'com.example.im.preferences']);
  const binary = build('', {});
  const dir = join(tempDir(), 'bin');
  mdmgen(['build', binary.fleet, '-o', dir, '--plist-format', 'binary']);
  const bin = mdmgen(['inspect', join(dir, 'plists/base/com.apple.iChat.plist'), '--format', 'yaml']);
  assert.equal(bin.code, 0, bin.stderr);
  assert.equal(bin.stdout, 'format: binary\ncontent:\n  Greeting: Café Zürich 東京\n');
  const bad = join(tempDir(), 'bad.plist');
  writeFileSync(bad, '<?xml version="1.0"?>\n<plist>\n<integer>12abc</integer>\n</plist>\n');
  const run = mdmgen(['inspect', bad]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /<integer>12abc<\/integer> is not an integer \(line 3\)/);
  assert.equal(untag(loadWithPlistlib(join(dir, 'plists/base/com.apple.iChat.plist'))) !== undefined, true);
});

test('inspect - and verify - read standard input (defaults export com.microsoft.Messenger - | mdmgen inspect -)', () => {
  const plist = join(build('', {}).out, 'plists/base/com.apple.iChat.plist');
  const piped = mdmgen(['inspect', '-', '--format', 'yaml'], { input: readFileSync(plist) });
  assert.deepEqual([piped.code, piped.stdout], [0, mdmgen(['inspect', plist, '--format', 'yaml']).stdout]);
  const profile = readFileSync(join(build(signing()).out, 'profiles/base.mobileconfig'));
  const verified = mdmgen(['verify', '-', '--ca', p('root.pem')], { input: profile });
  assert.equal(verified.code, 0, verified.stderr);
  assert.match(verified.stdout, /^standard input: valid signature\n/);
  const empty = mdmgen(['inspect', '-'], { input: Buffer.alloc(0) });
  assert.equal(empty.code, 2);
  assert.equal(empty.stderr, 'mdmgen: standard input: the document does not start with <plist> (line 1)\n');
});

test('the README\'s signing steps: make the test PKI, build examples/signed, verify with the test root', () => {
  const dir = tempDir();
  execFileSync('cp', ['-R', join(ROOT, 'examples'), dir]);
  const examples = join(dir, 'examples');
  execFileSync('sh', [join(examples, 'make-test-pki.sh')]);
  const built = mdmgen(['build', join(examples, 'signed', 'fleet.yaml')]);
  assert.equal(built.code, 0, built.stderr);
  assert.equal(built.stderr, '', 'no warnings');
  for (const profile of ['base', 'trust']) {
    const file = join(examples, 'signed', 'build', 'profiles', `${profile}.mobileconfig`);
    assert.equal(mdmgen(['verify', file, '--ca', join(examples, 'pki', 'root.pem')]).code, 0);
    assert.ok(opensslVerify(file, join(examples, 'pki', 'root.pem')).ok);
  }
  const whole = mdmgen(['verify', join(examples, 'signed', 'build'), '--ca', join(examples, 'pki', 'root.pem')]);
  assert.equal(whole.code, 0, whole.stdout);
  assert.match(whole.stdout, /\n2 profiles: 2 valid, 0 invalid; each chain checked against --ca\n$/);
});

test('the signing key never reaches the output: no file written holds a private key or the key\'s bytes', () => {
  const signed = build(signing());
  assert.equal(signed.code, 0, signed.stderr);
  const keyDer = execFileSync('openssl', ['pkey', '-in', p('leaf.key'), '-outform', 'DER']);
  for (const file of listTree(signed.out)) {
    const bytes = readFileSync(join(signed.out, file));
    assert.doesNotMatch(bytes.toString('latin1'), /PRIVATE KEY/, file);
    assert.equal(bytes.indexOf(keyDer.subarray(-64)), -1, `${file} holds the key's bytes`);
  }
});
