import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, cpSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { auditFile, auditPulled, domainOf, inForceElsewhere, ManagedValues, type Finding } from '../src/audit/audit.js';
import { loadCatalog } from '../src/catalog/catalog.js';
import { checkFleet } from '../src/fleet/check.js';
import { ArchiveError, AS_GIVEN, IN_PULL, pulledFiles, readPulled, whoFrom } from '../src/cli/pulled.js';
import { Real } from '../src/plist/value.js';
import { writeBinaryPlist } from '../src/plist/write-binary.js';
import { BIN, exampleCopy, listTree, mdmgen, ROOT, snapshotTree, tempDir } from './helpers/helpers.js';

const EXAMPLE = join(ROOT, 'examples', 'fleet.yaml');
const PULLED = join(ROOT, 'examples', 'pulled');
/** A pulled plist whose one deviation is DisallowSave off, where the example policy forces it on. */
const DEVIANT = join(PULLED, 'MAC-0217/Users/jgarcia/Library/Preferences/Microsoft/com.microsoft.Messenger.plist');

interface JsonFinding { file: string; host: string | null; user: string | null; group: string | null; domain: string | null; key: string | null; code: string; severity: string; expected: string | null; actual: string | null; message: string; line: number | null; offset: number | null; policy: { file: string; line: number; column: number } | null }
interface JsonReport { summary: Record<string, number>; findings: JsonFinding[] }

const validateFindings = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(JSON.parse(readFileSync(join(ROOT, 'schemas/findings.schema.json'), 'utf8')) as object);

function auditJson(...args: string[]): { code: number | null; report: JsonReport; stderr: string } {
  const run = mdmgen(['audit', ...args, '--format', 'json']);
  return { code: run.code, report: JSON.parse(run.stdout) as JsonReport, stderr: run.stderr };
}

/**
 * auditJson of pulls made of DEVIANT alone, one com.microsoft.Messenger.plist a folder, less the
 * audit/missing-plist finding each such folder also gives (for MessengerDaemon.plist), tested by itself.
 */
function auditLonePlists(...args: string[]): { code: number | null; report: JsonReport } {
  const { code, report } = auditJson(...args);
  return { code, report: { ...report, findings: report.findings.filter((f) => f.code !== 'audit/missing-plist') } };
}

test('exemptions in fleet.yaml leave their findings out of the report and its counts while in force, on one thread or several; once past, they come back with a warning', () => {
  const fleet = join(tempDir(), 'fleet.yaml');
  writeFileSync(fleet, `${readFileSync(EXAMPLE, 'utf8').replace('file: users.csv', `file: ${join(ROOT, 'examples/users.csv')}`)}
exemptions:
  - user: JGarcia                   # as a Mac compares names
    domain: com.microsoft.Messenger
    key: DisallowSave               # not MAC-0219's missing plist, which is about no key
    reason: Legal hold (IT-4211)
    expires: 2027-03-31
  - host: mac-0218                  # every finding of the Mac
    reason: Lab Mac, reimaged monthly
    expires: 2027-01-31
  - group: Engineering
    key: HideTimeStamp
    reason: Trial of timestamps
    expires: 2026-12-31
`);
  const lines = readFileSync(fleet, 'utf8').split('\n');
  const expiresLine = (day: string) => lines.findIndex((l) => l.includes(`expires: ${day}`)) + 1;
  const audit = (now: string, env: NodeJS.ProcessEnv = {}) => {
    const run = mdmgen(['audit', fleet, PULLED, '--format', 'json'], { env: { MDMGEN_NOW: now, ...env } });
    const report = JSON.parse(run.stdout) as JsonReport;
    assert.ok(validateFindings(report), JSON.stringify(validateFindings.errors));
    return { code: run.code, stderr: run.stderr, summary: report.summary, left: report.findings.map((f) => `${f.host} ${f.code} ${f.key}`) };
  };
  const all = auditJson(EXAMPLE, PULLED).report.findings.map((f) => `${f.host} ${f.code} ${f.key}`);

  const inForce = audit('2026-12-31T23:59:59Z');
  assert.deepEqual(inForce.left, all.filter((f) => !/^MAC-0217 .* DisallowSave$|^MAC-0218 |^MAC-0102 .* HideTimeStamp$/.test(f)));
  assert.deepEqual(inForce.summary, { files: 17, unreadable: 1, hosts: 8, users: 8, errors: 3, warnings: 0, infos: 0, exempted: 4 });
  assert.deepEqual([inForce.code, inForce.stderr], [1, '']);
  assert.deepEqual(audit('2026-12-31T23:59:59Z', { MDMGEN_THREADS: '2' }), inForce, 'the same with the pull shared among threads');

  // A day later the Engineering trial is over: its finding is back, and stderr says which exemption ran out.
  const later = audit('2027-01-01T00:00:00Z');
  assert.deepEqual(later.left, all.filter((f) => !/^MAC-0217 .* DisallowSave$|^MAC-0218 /.test(f)));
  assert.equal(later.summary.exempted, 3);
  assert.match(later.stderr, new RegExp(`fleet\\.yaml:${expiresLine('2026-12-31')}:14  warning  this exemption's last day has passed, so the audit reports its findings again: renew it or remove it  exemption/expired`));
  const validated = mdmgen(['validate', fleet, '--fail-on', 'warning'], { env: { MDMGEN_NOW: '2027-02-01T00:00:00Z' } });
  assert.equal(validated.code, 1);
  assert.deepEqual([...validated.stdout.matchAll(/:(\d+):14 {2}warning .* exemption\/expired/g)].map((m) => Number(m[1])), [expiresLine('2027-01-31'), expiresLine('2026-12-31')].sort((a, b) => a - b));

  for (const [entry, expected] of [
    ['  - { key: DisallowSave, reason: everyone, expires: 2027-01-01 }', /:\d+:5 {2}error {2}an exemption names a host, a user or a group; to exempt every Mac, change the policy instead {2}exemption\/unscoped/],
    ['  - { user: jdoe, reason: r, expires: 2027-02-30 }', /:\d+:\d+ {2}error {2}expires is not a day of the calendar \(YYYY-MM-DD\) {2}exemption\/invalid-date/],
    ['  - { user: jdoe, reason: r, expires: 2027-2-3 }', /error {2}exemptions\[3\]\.expires .* {2}schema\/value/],
    ['  - { user: jdoe, expires: 2027-02-03 }', /schema\/required/],
  ] as const) {
    writeFileSync(fleet, `${lines.join('\n')}${entry}\n`);
    const refused = mdmgen(['validate', fleet]);
    assert.equal(refused.code, 2, entry);
    assert.match(refused.stdout, expected, entry);
  }
});

test('an exemption covers the findings that match every field it names, and only while in force', async () => {
  const { exemptAt } = await import('../src/fleet/exemptions.js');
  const exemption = (fields: Record<string, string>) => ({ reason: 'r', expires: '2027-01-31', keyPath: [], ...fields });
  const finding = { host: 'MAC-1', user: 'Jürgen', group: 'Legal', domain: 'com.microsoft.Messenger', key: 'DisallowSave' };
  const now = new Date('2027-01-31T12:00:00Z');
  const cases: [Record<string, string>, boolean][] = [
    [{ host: 'mac-1', user: 'JU\u0308RGEN' }, true],
    [{ host: 'mac-1', user: 'other' }, false],
    [{ user: 'jürgen', group: 'Legal', key: 'DisallowSave' }, true],
    [{ user: 'jürgen', group: 'legal' }, false],
    [{ group: 'Legal', domain: 'com.microsoft.MessengerDaemon' }, false],
    [{ group: 'Legal', domain: 'com.microsoft.Messenger' }, true],
    [{ host: 'MAC-2' }, false],
  ];
  for (const [fields, covered] of cases) assert.equal(exemptAt([exemption(fields)], now)!(finding), covered, JSON.stringify(fields));
  const many = exemptAt(cases.map(([fields]) => exemption(fields)), now)!;
  assert.equal(many(finding), true);
  assert.equal(many({ ...finding, host: null, user: null, group: null }), false, 'a finding about no one (audit/no-plists) is never exempt');
  assert.equal(exemptAt([exemption({ host: 'mac-1' })], new Date('2027-02-01T00:00:00Z')), undefined, 'none in force after its last day');
});

test('the example pulls: one finding of each kind, finding by finding, in the JSON that schemas/findings.schema.json describes', () => {
  const { code, report } = auditJson(EXAMPLE, PULLED);
  assert.equal(code, 1);
  assert.ok(validateFindings(report), JSON.stringify(validateFindings.errors));
  assert.deepEqual(report.summary, { files: 17, unreadable: 1, hosts: 8, users: 8, errors: 5, warnings: 1, infos: 1, exempted: 0 });
  assert.deepEqual(report.findings.map((f) => [f.code, f.severity, f.host, f.user, f.group, f.domain, f.key, f.expected, f.actual]), [
    ['audit/value-mismatch', 'info', 'MAC-0102', 'asmith', 'Engineering', 'com.microsoft.Messenger', 'HideTimeStamp', 'false', 'true'],
    ['audit/value-mismatch', 'error', 'MAC-0217', 'jgarcia', 'Legal', 'com.microsoft.Messenger', 'DisallowSave', 'true', 'false'],
    ['audit/unknown-key', 'warning', 'MAC-0218', 'mchen', 'Legal', 'com.microsoft.MessengerDaemon', 'AutoldleDelay', null, '5'],
    ['audit/type-mismatch', 'error', 'MAC-0218', 'mchen', 'Legal', 'com.microsoft.MessengerDaemon', 'RTCTransport', 'tls (4)', '"4" (string)'],
    ['audit/missing-plist', 'error', 'MAC-0219', 'jgarcia', 'Legal', 'com.microsoft.Messenger', null, null, null],
    ['audit/missing-key', 'error', 'MAC-0330', 'kolsen', null, 'com.microsoft.Messenger', 'DisallowSave', 'true', null],
    ['audit/unreadable', 'error', 'MAC-0400', 'guest', null, 'com.microsoft.MessengerDaemon', null, null, null],
  ]);
  const disallow = report.findings[1]!;
  assert.equal(disallow.line, 7, 'the line in the plist');
  const fleetLines = readFileSync(EXAMPLE, 'utf8').split('\n');
  assert.match(fleetLines[disallow.policy!.line - 1]!, /^ {4}DisallowSave: true/, 'the line in fleet.yaml that set it');
  assert.equal(report.findings[2]!.message, 'AutoldleDelay is not a com.microsoft.MessengerDaemon key; did you mean AutoIdleDelay?');
  assert.match(report.findings[3]!.message, /defaults write without -int stores a string/);
  assert.match(report.findings[6]!.message, /^unreadable plist: .+/);
  assert.equal(report.findings[4]!.policy!.line, disallow.policy!.line, 'the missing plist points at the forced key it takes away');
});

test('exit codes: 1 at or above --fail-on, 0 when compliant, 2 for a bad fleet.yaml or a missing path', () => {
  assert.equal(mdmgen(['audit', EXAMPLE, PULLED, '--fail-on', 'error']).code, 1);
  const compliant = join(PULLED, 'MAC-0101');
  const clean = mdmgen(['audit', EXAMPLE, compliant]);
  assert.equal(clean.code, 0, clean.stdout);
  assert.match(clean.stdout, /^0 findings \(0 errors, 0 warnings, 0 infos\) in 2 plists/m);
  assert.equal(mdmgen(['audit', EXAMPLE, join(PULLED, 'MAC-0102'), '--fail-on', 'info']).code, 1);
  assert.equal(mdmgen(['audit', EXAMPLE, join(PULLED, 'MAC-0102')]).code, 0, 'an info finding passes by default');
  assert.equal(mdmgen(['audit', EXAMPLE, join(PULLED, 'no-such-folder')]).code, 2);
  const bad = join(tempDir(), 'fleet.yaml');
  writeFileSync(bad, 'mdmgen: 2\n');
  assert.equal(mdmgen(['audit', bad, PULLED]).code, 2);
});

test('the files macOS keeps for installed profiles (/Library/Managed Preferences) name their user, or none for the computer\'s', () => {
  const dir = tempDir();
  const managed = join(dir, 'pull', 'MAC-0500', 'Library', 'Managed Preferences');
  mkdirSync(join(managed, 'jgarcia'), { recursive: true });
  cpSync(DEVIANT, join(managed, 'jgarcia', 'com.microsoft.Messenger.plist'));
  cpSync(DEVIANT, join(managed, 'com.microsoft.Messenger.plist'));
  const { report } = auditLonePlists(EXAMPLE, join(dir, 'pull'));
  assert.deepEqual(report.findings.map((f) => [f.host, f.user, f.group, f.key]), [['MAC-0500', null, null, 'DisallowSave'], ['MAC-0500', 'jgarcia', 'Legal', 'DisallowSave']]);
  const ofTheMac = auditLonePlists(EXAMPLE, join(dir, 'pull', 'MAC-0500')).report;
  assert.deepEqual(ofTheMac.findings.map((f) => [f.host, f.user]), [['MAC-0500', null], ['MAC-0500', 'jgarcia']], 'a PATH that is the Mac\'s own folder names the host');
  // Such a file holds the forced keys only: the once and often keys (HideTimeStamp, DoNotShowVirusAlert) are not expected in it.
  writeFileSync(join(managed, 'jgarcia', 'com.microsoft.Messenger.plist'), '<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict><key>DisallowSave</key><true/></dict></plist>\n');
  const forcedOnly = auditLonePlists(EXAMPLE, join(dir, 'pull')).report;
  assert.deepEqual(forcedOnly.findings.map((f) => [f.user, f.key]), [[null, 'DisallowSave']]);
  const named = auditLonePlists(EXAMPLE, managed).report;
  assert.deepEqual(named.findings.map((f) => [f.host, f.user, f.key]), [[null, null, 'DisallowSave']], 'the Managed Preferences folder itself as the PATH');
  rmSync(join(managed, 'com.microsoft.Messenger.plist'));
  cpSync(DEVIANT, join(managed, 'jgarcia', 'com.microsoft.Messenger.plist'));
  assert.deepEqual(auditLonePlists(EXAMPLE, managed).report.findings.map((f) => [f.user, f.group]), [['jgarcia', 'Legal']]);
});

test('with the files of Managed Preferences pulled too, a forced key is judged where it is in force: the file there that holds it, not the user\'s own', () => {
  const pull = join(tempDir(), 'pull');
  for (const mac of ['MAC-0102', 'MAC-0217', 'MAC-0219', 'MAC-0330']) cpSync(join(PULLED, mac), join(pull, mac), { recursive: true });
  const managedPlist = (disallowSave: boolean) => `<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n<dict>\n  <key>DisallowSave</key>\n  <${disallowSave}/>\n</dict>\n</plist>\n`;
  const managed = (mac: string, user: string | null, disallowSave: boolean) => {
    const folder = join(pull, mac, 'Library', 'Managed Preferences', ...(user === null ? [] : [user]));
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'com.microsoft.Messenger.plist'), managedPlist(disallowSave));
  };
  const shown = (report: JsonReport) => report.findings.map((f) => [f.file.slice(pull.length + 1), f.user, f.key, f.code, f.severity]);
  const before = auditJson(EXAMPLE, pull).report;
  assert.deepEqual(shown(before).filter(([, , , , severity]) => severity === 'error'), [
    ['MAC-0217/Users/jgarcia/Library/Preferences/Microsoft/com.microsoft.Messenger.plist', 'jgarcia', 'DisallowSave', 'audit/value-mismatch', 'error'],
    ['MAC-0219/Users/jgarcia/Library/Preferences/Microsoft/com.microsoft.Messenger.plist', 'jgarcia', null, 'audit/missing-plist', 'error'],
    ['MAC-0330/Users/kolsen/Library/Preferences/Microsoft/com.microsoft.Messenger.plist', 'kolsen', 'DisallowSave', 'audit/missing-key', 'error'],
  ]);

  // The profile's value lies over the user's DisallowSave off; over the missing plist (the computer's file, for every user); and the
  // one there that is wrong is reported there, in place of the key missing from the user's own file. The user folder differs in case.
  managed('MAC-0217', 'JGarcia', true);
  managed('MAC-0219', null, true);
  managed('MAC-0330', 'kolsen', false);
  // The computer's file holds the base policy's value, which asmith's group (Engineering) forces otherwise.
  managed('MAC-0102', null, true);
  const { code, report } = auditJson(EXAMPLE, pull);
  assert.equal(code, 1);
  assert.ok(validateFindings(report), JSON.stringify(validateFindings.errors));
  assert.deepEqual(shown(report), [
    ['MAC-0102/Library/Managed Preferences/com.microsoft.Messenger.plist', 'asmith', 'DisallowSave', 'audit/value-mismatch', 'error'],
    ['MAC-0102/Users/asmith/Library/Preferences/Microsoft/com.microsoft.Messenger.plist', 'asmith', 'HideTimeStamp', 'audit/value-mismatch', 'info'],
    ['MAC-0330/Library/Managed Preferences/kolsen/com.microsoft.Messenger.plist', 'kolsen', 'DisallowSave', 'audit/value-mismatch', 'error'],
  ]);
  const conflict = report.findings[0]!;
  assert.deepEqual([conflict.host, conflict.group, conflict.expected, conflict.actual, conflict.line], ['MAC-0102', 'Engineering', 'false', 'true', 4]);
  assert.equal(conflict.message, 'DisallowSave is true in the computer\'s Managed Preferences, over asmith\'s own file; asmith\'s policy forces false');
  assert.match(readFileSync(EXAMPLE, 'utf8').split('\n')[conflict.policy!.line - 1]!, /^ {8}DisallowSave: false/, 'the line of the group that forces it');
  // jgarcia of MAC-0217 is one user, whose folders differ in case.
  assert.deepEqual(report.summary, { files: 11, unreadable: 0, hosts: 4, users: 4, errors: 2, warnings: 0, infos: 1, exempted: 0 });
  // A file there that does not hold the key leaves it to the user's own file.
  writeFileSync(join(pull, 'MAC-0217', 'Library', 'Managed Preferences', 'JGarcia', 'com.microsoft.Messenger.plist'), managedPlist(true).replace('DisallowSave', 'HideTimeStamp'));
  assert.deepEqual(shown(auditJson(EXAMPLE, join(pull, 'MAC-0217')).report).filter(([, , key]) => key === 'DisallowSave'), [
    ['MAC-0217/Library/Managed Preferences/JGarcia/com.microsoft.Messenger.plist', 'JGarcia', 'DisallowSave', 'audit/missing-key', 'error'],
    ['MAC-0217/Users/jgarcia/Library/Preferences/Microsoft/com.microsoft.Messenger.plist', 'jgarcia', 'DisallowSave', 'audit/value-mismatch', 'error'],
  ]);
});

test('auditFile (the library): values compared whole, by type and content; a key the policy leaves alone stored with a type Messenger does not read; findings in line order', () => {
  const catalog = loadCatalog();
  const yaml = [
    'mdmgen: 1', 'organization: { name: Example Corp, identifier: com.example.im }', 'preferences:',
    '  com.microsoft.Messenger: { DisallowSave: true }',
    '  com.example.Tool: { Ratio: 1.5, Servers: [a.example.com, b.example.com], Limits: { calls: 1, chats: 2 }, Same: [x, { y: 1 }] }', '',
  ].join('\n');
  const { fleet, source } = checkFleet('fleet.yaml', Buffer.from(yaml), catalog);
  const context = { fleet: fleet!, source: source!, catalog, usersByName: new Map() };
  const pulled = (bytes: Buffer) => ({ file: 'MAC-1/Users/jo/x.plist', host: 'MAC-1', user: 'jo', bytes });
  // Each a part of what the policy has: a loose comparison (rounded reals, the shorter array or dictionary) passes
  // them. A binary plist has no lines: its findings come in the policy's order.
  const tool = auditFile(pulled(Buffer.from(writeBinaryPlist({ Ratio: new Real(1.7), Servers: ['a.example.com'], Limits: { calls: 1 }, Same: ['x', { y: 1 }] }))), 'com.example.Tool', context);
  assert.deepEqual(tool.map((f) => [f.key, f.code, f.expected, f.actual]), [
    ['Ratio', 'audit/value-mismatch', '1.5', '1.7'],
    ['Servers', 'audit/value-mismatch', '[2 items]', '[1 item]'],
    ['Limits', 'audit/value-mismatch', '{2 keys}', '{1 key}'],
  ]);
  const xml = (body: string) => Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n<dict>\n${body}</dict>\n</plist>\n`);
  const messenger = auditFile(pulled(xml('\t<key>HideTimeStamp</key>\n\t<string>YES</string>\n\t<key>DisallowSav</key>\n\t<true/>\n\t<key>DisallowSave</key>\n\t<false/>\n')), 'com.microsoft.Messenger', context);
  assert.deepEqual(messenger.map((f) => [f.line, f.key, f.code, f.severity]), [
    [4, 'HideTimeStamp', 'audit/type-mismatch', 'warning'],
    [6, 'DisallowSav', 'audit/unknown-key', 'warning'],
    [8, 'DisallowSave', 'audit/value-mismatch', 'error'],
  ]);
  assert.equal(messenger[0]!.message, 'HideTimeStamp is a string "YES", but Messenger reads a boolean (defaults write without -bool stores a string)');
});

test('a key held in a file of Managed Preferences spares the user\'s own file its errors about that key, not its infos', () => {
  const managed = new ManagedValues();
  managed.add({ file: 'pull/MAC-1/Library/Managed Preferences/com.microsoft.Messenger.plist', host: 'MAC-1', user: null, domain: 'com.microsoft.Messenger', held: JSON.stringify([['DisallowSave', 'boolean:true', 'true', null]]) });
  const finding = (severity: Finding['severity'], key = 'DisallowSave', file = 'pull/MAC-1/Users/jo/Library/Preferences/Microsoft/com.microsoft.Messenger.plist'): Finding => ({
    code: 'audit/value-mismatch', severity, message: '', file, host: 'MAC-1', user: 'jo', group: null, domain: 'com.microsoft.Messenger', key, expected: 'true', actual: 'false', policy: null,
  });
  assert.equal(inForceElsewhere(finding('error'), managed), true);
  assert.equal(inForceElsewhere(finding('info'), managed), false, 'a Set-Once value is the user\'s own file\'s');
  assert.equal(inForceElsewhere(finding('error', 'HideTimeStamp'), managed), false, 'a key no such file holds');
  assert.equal(inForceElsewhere(finding('error', 'DisallowSave', 'pull/MAC-1/Library/Managed Preferences/jo/com.microsoft.Messenger.plist'), managed), false, 'a file of Managed Preferences is judged itself');
});

test('a file of Managed Preferences is kept by what its forced keys hold, in a few hundred bytes however large their values', () => {
  const catalog = loadCatalog();
  const { fleet, source } = checkFleet(EXAMPLE, readFileSync(EXAMPLE), catalog);
  const context = { fleet: fleet!, source: source!, catalog, usersByName: new Map() };
  const file = 'pull/MAC-0600/Library/Managed Preferences/com.microsoft.Messenger.plist';
  const huge = writeBinaryPlist({ DisallowSave: Array.from({ length: 100_000 }, (_, i) => `value ${i}`) });
  const result = auditPulled({ file, host: 'MAC-0600', user: null, domain: 'com.microsoft.Messenger', bytes: Buffer.from(huge) }, context);
  assert.deepEqual(result.findings.map((f) => [f.key, f.code, f.actual]), [['DisallowSave', 'audit/type-mismatch', '[100000 items] (array)']]);
  assert.ok(huge.length > 1_000_000 && result.managed!.held.length < 300, `${result.managed!.held.length} characters`);
  const small = auditPulled({ file, host: 'MAC-0600', user: null, domain: 'com.microsoft.Messenger', bytes: Buffer.from(writeBinaryPlist({ DisallowSave: true })) }, context);
  assert.deepEqual(JSON.parse(small.managed!.held), [['DisallowSave', 'boolean:true', 'true', null]]);
  // A finding shows such a value cut short too, in the user's own file as in a file of Managed Preferences.
  const server = auditPulled({ file: 'pull/MAC-0600/Users/kolsen/Library/Preferences/Microsoft/com.microsoft.MessengerDaemon.plist', host: 'MAC-0600', user: 'kolsen', domain: 'com.microsoft.MessengerDaemon', bytes: Buffer.from(writeBinaryPlist({ RTCServerAddress: 'x'.repeat(1_000_000) })) }, context);
  const mismatch = server.findings.find((f) => f.key === 'RTCServerAddress')!;
  assert.equal(mismatch.actual, JSON.stringify(`${'x'.repeat(77)}...`));
  assert.ok(mismatch.message.length < 200, mismatch.message.slice(0, 200));
});

test('a host of the pull with any number of users in Managed Preferences: each user\'s file is found, however the files of two hosts interleave', () => {
  // A pull is untrusted: one host may hold 20,000 user folders there, and an archive may alternate between hosts
  // (the first version wrote a host's record again at each file: 8,000 users took 22.7 s, 20,000 would take minutes).
  const managed = new ManagedValues();
  const held = JSON.stringify([['DisallowSave', 'boolean:true', 'true', null]]);
  for (let i = 0; i < 20_000; i++) {
    for (const host of ['MAC-A', 'MAC-B']) {
      if (host === 'MAC-B' && i % 2) continue;
      managed.add({ file: `pull/${host}/Library/Managed Preferences/User${i}/com.microsoft.Messenger.plist`, host, user: `User${i}`, domain: 'com.microsoft.Messenger', held });
    }
  }
  managed.add({ file: 'pull/MAC-C/Library/Managed Preferences/com.microsoft.Messenger.plist', host: 'MAC-C', user: null, domain: 'com.microsoft.Messenger', held });
  const holds = (host: string, user: string | null) => managed.holds(host, user, 'com.microsoft.Messenger', 'DisallowSave');
  assert.deepEqual([holds('MAC-A', 'user19999'), holds('MAC-A', 'USER0'), holds('MAC-B', 'user2'), holds('MAC-B', 'user3'), holds('MAC-A', 'user20000')], [true, true, true, false, false]);
  assert.deepEqual([holds('MAC-C', 'anyone'), holds('MAC-C', null), holds('MAC-A', null), managed.holds('MAC-A', 'user1', 'com.microsoft.Messenger', 'HideTimeStamp')], [true, true, false, false]);
  assert.equal(managed.size, 3);
});

test('host and user from the path, in each layout a pull has', () => {
  const cases: [string, string | null, string | null, string | null][] = [
    ['MAC-1/Users/jo/Library/Preferences/Microsoft/com.microsoft.Messenger.plist', null, 'MAC-1', 'jo'],
    ['exports/2026-11/MAC-1/Users/jo/Library/Preferences/Microsoft/com.microsoft.Messenger.plist', null, 'MAC-1', 'jo'],
    ['MAC-1/jo/com.microsoft.Messenger.plist', null, 'MAC-1', 'jo'],
    ['MAC-1//Users/jo/com.microsoft.Messenger.plist', null, 'MAC-1', 'jo'],
    ['Users/jo/Library/Preferences/Microsoft/com.microsoft.Messenger.plist', 'MAC-1', 'MAC-1', 'jo'],
    ['MAC-1/Users/com.microsoft.Messenger.plist', null, 'MAC-1', 'Users'],
    ['MAC-1/Library/Managed Preferences/jo/com.microsoft.Messenger.plist', null, 'MAC-1', 'jo'],
    ['MAC-1/Library/Managed Preferences/com.microsoft.Messenger.plist', null, 'MAC-1', null],
    ['Library/Managed Preferences/com.microsoft.Messenger.plist', 'MAC-1', 'MAC-1', null],
    ['jo/com.microsoft.Messenger.plist', 'Managed Preferences', null, 'jo'],
    ['com.microsoft.Messenger.plist', null, null, null],
  ];
  for (const [path, top, host, user] of cases) assert.deepEqual(whoFrom(path, top), { host, user }, path);
});

test('which pulled files are audited: <domain>.plist of the catalogue, of the base policy or of a group\'s, not under ByHost/', () => {
  const catalog = loadCatalog();
  const yaml = `${'mdmgen: 1\norganization: { name: Example Corp, identifier: com.example.im }\n'}preferences:\n  com.example.Base: { A: 1 }\ngroups:\n  Sales:\n    preferences:\n      com.example.Sales: { B: 2 }\n`;
  const { fleet, source } = checkFleet('fleet.yaml', Buffer.from(yaml), catalog);
  const context = { fleet: fleet!, source: source!, catalog, usersByName: new Map() };
  const cases: [string, string | undefined][] = [
    ['MAC-1/jo/com.microsoft.Messenger.plist', 'com.microsoft.Messenger'],
    ['MAC-1/jo/com.example.Base.plist', 'com.example.Base'],
    ['MAC-1/jo/com.example.Sales.plist', 'com.example.Sales'],
    ['MAC-1/jo/com.example.Other.plist', undefined],
    ['MAC-1/Users/jo/Library/Preferences/ByHost/com.microsoft.Messenger.plist', undefined],
    ['MAC-1/jo/com.microsoft.Messenger.plist.bak', undefined],
  ];
  for (const [path, domain] of cases) assert.equal(domainOf(path, context), domain, path);
});

test('a PATH that is one Mac\'s own folder names the host of the plists under its Users/', () => {
  const { report } = auditJson(EXAMPLE, join(PULLED, 'MAC-0217'));
  assert.deepEqual(report.findings.map((f) => [f.host, f.user, f.group, f.key]), [['MAC-0217', 'jgarcia', 'Legal', 'DisallowSave']]);
  assert.equal(report.summary.hosts, 1);
});

test('a plist named on the command line is audited by its domain; a PATH that gives nothing to audit is an error finding', () => {
  const prefs = join(PULLED, 'MAC-0217/Users/jgarcia/Library/Preferences/Microsoft');
  const named = auditJson(EXAMPLE, join(prefs, 'com.microsoft.Messenger.plist'));
  assert.equal(named.report.summary.files, 1);
  assert.deepEqual(named.report.findings.map((f) => [f.domain, f.key, f.code]), [['com.microsoft.Messenger', 'DisallowSave', 'audit/value-mismatch']]);

  const dir = tempDir();
  const other = join(dir, 'com.example.other.plist');
  cpSync(join(prefs, 'com.microsoft.Messenger.plist'), other);
  const empty = join(dir, 'MAC-0999');
  mkdirSync(join(empty, 'Users/nobody/Library/Preferences'), { recursive: true });
  writeFileSync(join(empty, 'Users/nobody/Library/Preferences/com.apple.Safari.plist'), '<plist><dict/></plist>');
  const archive = join(dir, 'empty.tar.gz');
  execFileSync('tar', ['-czf', archive, '-C', empty, '.']);
  const nothing = auditJson(EXAMPLE, other, empty, archive, PULLED);
  assert.equal(nothing.code, 1);
  assert.ok(validateFindings(nothing.report), JSON.stringify(validateFindings.errors));
  const noPlists = nothing.report.findings.filter((f) => f.code === 'audit/no-plists');
  assert.deepEqual(noPlists.map((f) => [f.file, f.severity, f.domain, f.host]), [[empty, 'error', null, null], [other, 'error', null, null], [archive, 'error', null, null]]);
  assert.match(noPlists[1]!.message, /com\.example\.other\.plist is not <domain>\.plist for a domain fleet\.yaml or the catalogue knows/);
  assert.match(noPlists[0]!.message, /no <domain>\.plist of a domain fleet\.yaml or the catalogue knows is in .*MAC-0999/);
  assert.equal(nothing.report.summary.files, 17, 'the PATH that has plists is audited as before');

  const stylish = mdmgen(['audit', EXAMPLE, empty]);
  assert.equal(stylish.code, 1, 'an empty pull does not pass as compliant');
  assert.match(stylish.stdout, /1 finding \(1 error, 0 warnings, 0 infos\) in 0 plists from 0 hosts and 0 users\n$/);
  assert.match(stylish.stdout, /^\(no host or user in the path\)\n  .*MAC-0999  error  nothing audited/);
});

test('zip, tar.gz and tar archives of pulls give the same findings as the folder', () => {
  const dir = tempDir();
  execFileSync('sh', ['-c', `cd "${PULLED}" && zip -qr "${join(dir, 'pulls.zip')}" . 2>/dev/null || python3 -c "import shutil; shutil.make_archive('${join(dir, 'pulls')}', 'zip', '.')"`]);
  execFileSync('tar', ['-czf', join(dir, 'pulls.tar.gz'), '-C', PULLED, '.']);
  execFileSync('tar', ['-cf', join(dir, 'pulls.tar'), '-C', PULLED, '.']);
  const folder = auditJson(EXAMPLE, PULLED).report.findings.map((f) => [f.code, f.host, f.user, f.key]);
  for (const archive of ['pulls.zip', 'pulls.tar.gz', 'pulls.tar']) {
    const { report } = auditJson(EXAMPLE, join(dir, archive));
    assert.deepEqual(report.findings.map((f) => [f.code, f.host, f.user, f.key]), folder, archive);
    assert.ok(report.findings.every((f) => f.file.includes(`${archive}!/`)), archive);
  }
});

test('zip names without the UTF-8 flag: UTF-8 as a Mac\'s Archive Utility writes them, else code page 437 as the zip format says', () => {
  const dir = tempDir();
  // Python flags its UTF-8 names; the flag (bit 11) is then cleared in every header, as ditto leaves it.
  execFileSync('python3', ['-c', `import struct, sys, zipfile
out, plist = sys.argv[1], open(sys.argv[2], 'rb').read()
names = ['MAC-1/Users/j\u00fcrgen/Library/Preferences/Microsoft/com.microsoft.Messenger.plist', 'MAC-2/Users/jxger/Library/Preferences/Microsoft/com.microsoft.Messenger.plist']
with zipfile.ZipFile(out, 'w') as z:
    for name in names: z.writestr(name, plist)
data = bytearray(open(out, 'rb').read())
for signature, at in ((b'PK\\x03\\x04', 6), (b'PK\\x01\\x02', 8)):
    i = data.find(signature)
    while i >= 0:
        struct.pack_into('<H', data, i + at, struct.unpack_from('<H', data, i + at)[0] & ~0x800)
        i = data.find(signature, i + 4)
# The second name as a DOS zip tool writes it: a in code page 437 is 0x84, which is not UTF-8.
open(out, 'wb').write(bytes(data).replace(b'jxger', b'j\\x84ger'))`, join(dir, 'mac.zip'), DEVIANT]);
  const { report } = auditLonePlists(EXAMPLE, join(dir, 'mac.zip'));
  assert.deepEqual(report.findings.map((f) => [f.host, f.user]), [['MAC-1', 'j\u00fcrgen'], ['MAC-2', 'j\u00e4ger']]);
});

/** `dir`/pull with DEVIANT for 300 Macs, so that with MDMGEN_THREADS the folder is shared among threads. */
function threadedPull(dir: string): string {
  const pull = join(dir, 'pull');
  const plist = readFileSync(DEVIANT);
  for (let i = 0; i < 300; i++) {
    mkdirSync(join(pull, `MAC-${i}`, 'u'), { recursive: true });
    writeFileSync(join(pull, `MAC-${i}`, 'u', 'com.microsoft.Messenger.plist'), plist);
  }
  return pull;
}

test('archives inside a pulled folder are audited too, threads or not; a broken one is audit/unreadable and the rest goes on', () => {
  const dir = tempDir();
  const pull = threadedPull(dir);
  mkdirSync(join(pull, 'exports', 'week-47'), { recursive: true });
  execFileSync('tar', ['-czf', join(pull, 'exports', 'week-47', 'pulls.tar.gz'), '-C', PULLED, '.']);
  execFileSync('python3', ['-c', 'import shutil, sys; shutil.make_archive(sys.argv[1], "zip", sys.argv[2])', join(pull, 'day-1'), PULLED]);
  writeFileSync(join(pull, 'broken.zip'), 'not a zip');
  const fromExample = auditJson(EXAMPLE, PULLED).report.findings.length;
  const runs = ['0', '2'].map((threads) => mdmgen(['audit', EXAMPLE, 'pull', '--format', 'json'], { cwd: dir, env: { MDMGEN_THREADS: threads } }));
  assert.equal(runs[1]!.stdout, runs[0]!.stdout, 'threads give the same report');
  const { summary, findings } = JSON.parse(runs[0]!.stdout) as JsonReport;
  assert.equal(summary.files, 300 + 2 * 17);
  const inArchive = (name: string) => findings.filter((f) => f.file.startsWith(`pull/${name}!/`));
  assert.equal(inArchive('day-1.zip').length, fromExample);
  assert.equal(inArchive('exports/week-47/pulls.tar.gz').length, fromExample);
  assert.deepEqual(findings.filter((f) => f.file === 'pull/broken.zip').map((f) => f.code), ['audit/unreadable']);
});

test('a Mac\'s home folder names its directory user as the Mac does: without case or Unicode normalisation (JGarcia is jgarcia, NFD jürgen is NFC jürgen)', () => {
  const fleet = exampleCopy();
  const dir = join(fleet, '..');
  writeFileSync(join(dir, 'users.csv'), `${readFileSync(join(dir, 'users.csv'), 'utf8')}j\u00fcrgen,juergen@example.com,j\u00fcrgen@CORP.EXAMPLE.COM,Legal,"M\u00fcller, J\u00fcrgen"\n`);
  const pull = threadedPull(dir);
  // HFS+ stores names decomposed (NFD); a CSV from Windows has them composed.
  for (const [mac, user] of [['MAC-0600', 'JGarcia'], ['MAC-0700', 'ju\u0308rgen']] as const) {
    cpSync(join(PULLED, 'MAC-0217/Users/jgarcia'), join(pull, mac, 'Users', user), { recursive: true });
  }
  const runs = ['0', '2'].map((threads) => mdmgen(['audit', fleet, 'pull', '--format', 'json'], { cwd: dir, env: { MDMGEN_THREADS: threads } }));
  assert.equal(runs[1]!.stdout, runs[0]!.stdout, 'threads give the same report');
  const findings = (JSON.parse(runs[0]!.stdout) as JsonReport).findings.filter((f) => f.host === 'MAC-0600' || f.host === 'MAC-0700');
  assert.deepEqual(findings.map((f) => [f.host, f.user, f.group, f.key, f.expected, f.actual]), [
    ['MAC-0600', 'JGarcia', 'Legal', 'DisallowSave', 'true', 'false'],
    ['MAC-0700', 'ju\u0308rgen', 'Legal', 'DisallowSave', 'true', 'false'],
    // jürgen's own values are asserted: the plists are jgarcia's.
    ['MAC-0700', 'ju\u0308rgen', 'Legal', 'UserLogonName', '"j\u00fcrgen@CORP.EXAMPLE.COM"', '"jgarcia@CORP.EXAMPLE.COM"'],
    ['MAC-0700', 'ju\u0308rgen', 'Legal', 'UserSIPID', '"juergen@example.com"', '"jose.garcia@example.com"'],
  ]);
});

test('a Messenger plist missing beside the other (a user who deleted com.microsoft.Messenger.plist) is an error where the policy forces keys in it away from their defaults', () => {
  const dir = tempDir();
  const pull = threadedPull(dir);
  const home = (mac: string) => join(pull, mac, 'Users');
  const prefs = (mac: string, user: string) => join(home(mac), user, 'Library', 'Preferences', 'Microsoft');
  // jgarcia (Legal) deleted the UI plist; jdoe (Engineering, where DisallowSave is forced off, its default) too;
  // asmith lost the daemon's; mchen has neither left.
  for (const [mac, user, gone] of [['MAC-0217', 'jgarcia', ['com.microsoft.Messenger']], ['MAC-0101', 'jdoe', ['com.microsoft.Messenger']], ['MAC-0102', 'asmith', ['com.microsoft.MessengerDaemon']], ['MAC-0218', 'mchen', ['com.microsoft.Messenger', 'com.microsoft.MessengerDaemon']]] as const) {
    cpSync(join(PULLED, mac, 'Users', user), join(home(mac), user), { recursive: true });
    for (const domain of gone) rmSync(join(prefs(mac, user), `${domain}.plist`));
  }
  mkdirSync(join(pull, 'MAC-0218', 'Users', 'mchen', 'Documents'));
  writeFileSync(join(pull, 'MAC-0218', 'Users', 'mchen', 'Documents', 'notes.txt'), 'not a plist');
  const expected = [
    ['MAC-0102', 'asmith', 'Engineering', 'com.microsoft.MessengerDaemon', join('pull', 'MAC-0102/Users/asmith/Library/Preferences/Microsoft/com.microsoft.MessengerDaemon.plist'), 24],
    ['MAC-0217', 'jgarcia', 'Legal', 'com.microsoft.Messenger', join('pull', 'MAC-0217/Users/jgarcia/Library/Preferences/Microsoft/com.microsoft.Messenger.plist'), 20],
  ];
  const runs = ['0', '2'].map((threads) => mdmgen(['audit', EXAMPLE, 'pull', '--format', 'json'], { cwd: dir, env: { MDMGEN_THREADS: threads } }));
  assert.equal(runs[1]!.stdout, runs[0]!.stdout, 'threads give the same report');
  assert.ok(validateFindings(JSON.parse(runs[0]!.stdout)), JSON.stringify(validateFindings.errors));
  // threadedPull's 300 Macs hold DEVIANT alone (MAC-<n>/u/): each of them lacks its daemon plist too.
  const ours = (f: JsonFinding) => f.code === 'audit/missing-plist' && !f.file.includes('/u/');
  const missing = (JSON.parse(runs[0]!.stdout) as JsonReport).findings.filter(ours);
  assert.deepEqual(missing.map((f) => [f.host, f.user, f.group, f.domain, f.file, f.policy!.line]), expected);
  assert.ok(missing.every((f) => f.severity === 'error' && f.key === null && f.line === null));
  assert.match(missing[1]!.message, /^com\.microsoft\.Messenger\.plist is not in this folder of the pull, beside com\.microsoft\.MessengerDaemon\.plist; where it is gone from the Mac, the keys the policy forces \(DisallowSave\) are back to Messenger's defaults$/);
  assert.match(missing[0]!.message, /forces \(RTCConfigurationMode, RTCServerAddress, RTCTransport and \d+ more\)/);
  // The same pull as a zip and as a tar.gz, and a plist named on its own (its sibling was not asked for).
  execFileSync('sh', ['-c', 'zip -qr pull.zip pull && tar -czf pull.tar.gz pull'], { cwd: dir });
  for (const archive of ['pull.zip', 'pull.tar.gz']) {
    const inArchive = (JSON.parse(mdmgen(['audit', EXAMPLE, archive, '--format', 'json'], { cwd: dir }).stdout) as JsonReport).findings.filter(ours);
    assert.deepEqual(inArchive.map((f) => [f.host, f.file]), expected.map(([host, , , , file]) => [host, `${archive}!/${file}`]), archive);
  }
  const alone = auditJson(EXAMPLE, join(prefs('MAC-0217', 'jgarcia'), 'com.microsoft.MessengerDaemon.plist'));
  assert.deepEqual(alone.report.findings.map((f) => f.code), []);
});

test('a plist named with other capitals (com.microsoft.messenger.plist, as `defaults write com.microsoft.messenger` makes it) is that domain\'s: a Mac\'s disk ignores case, and Messenger reads it', () => {
  const dir = tempDir();
  const prefs = join(dir, 'pull', 'MAC-0217', 'Users', 'jgarcia', 'Library', 'Preferences', 'Microsoft');
  cpSync(join(PULLED, 'MAC-0217'), join(dir, 'pull', 'MAC-0217'), { recursive: true });
  execFileSync('mv', [join(prefs, 'com.microsoft.Messenger.plist'), join(prefs, 'com.microsoft.messenger.plist')]);
  const runs = ['0', '2'].map((threads) => (JSON.parse(mdmgen(['audit', EXAMPLE, 'pull', '--format', 'json'], { cwd: dir, env: { MDMGEN_THREADS: threads } }).stdout) as JsonReport).findings);
  assert.deepEqual(runs[1], runs[0], 'threads give the same report');
  assert.deepEqual(runs[0]!.map((f) => [f.code, f.domain, f.key, f.file]), [
    ['audit/value-mismatch', 'com.microsoft.Messenger', 'DisallowSave', join('pull', 'MAC-0217/Users/jgarcia/Library/Preferences/Microsoft/com.microsoft.messenger.plist')],
  ], 'audited as com.microsoft.Messenger, and not missing');
});

test('FolderSiblings: a folder split between threads is whole once its halves are merged; only incomplete folders are held', async () => {
  const { FolderSiblings } = await import('../src/audit/audit.js');
  const siblings = new FolderSiblings(loadCatalog());
  siblings.add('p/MAC-1/u/com.microsoft.Messenger.plist', 'MAC-1', 'u', 'com.microsoft.Messenger');
  siblings.add('p/MAC-1/u/com.microsoft.MessengerDaemon.plist', 'MAC-1', 'u', 'com.microsoft.MessengerDaemon');
  siblings.add('p/MAC-2/u/com.microsoft.Messenger.plist', 'MAC-2', 'u', 'com.microsoft.Messenger');
  siblings.add('p/MAC-2/com.apple.iChat.plist', 'MAC-2', null, 'com.apple.iChat');
  const open = siblings.take();
  assert.deepEqual(open, [{ folder: 'p/MAC-2/u/', host: 'MAC-2', user: 'u', domains: ['com.microsoft.Messenger'] }]);
  assert.deepEqual(siblings.missing(open[0]!), ['com.microsoft.MessengerDaemon']);
  assert.deepEqual(siblings.take(), []);
  siblings.merge(open[0]!);
  siblings.merge({ folder: 'p/MAC-2/u/', host: 'MAC-2', user: 'u', domains: ['com.microsoft.MessengerDaemon'] });
  assert.deepEqual(siblings.take(), []);

  // Property: files shared out among threads in any way, each thread's incomplete folders merged, leave
  // the same incomplete folders as one thread that saw every file.
  const { default: fc } = await import('fast-check');
  const domains = ['com.microsoft.Messenger', 'com.microsoft.MessengerDaemon'];
  const file = fc.tuple(fc.integer({ min: 0, max: 6 }), fc.constantFrom(...domains)).map(([mac, domain]) => ({ folder: `p/MAC-${mac}/`, domain }));
  fc.assert(fc.property(fc.uniqueArray(file, { selector: (f) => f.folder + f.domain, maxLength: 14 }), fc.array(fc.nat(3), { minLength: 14, maxLength: 14 }), (files, shareOf) => {
    const whole = new FolderSiblings(loadCatalog());
    const shares = Array.from({ length: 4 }, () => new FolderSiblings(loadCatalog()));
    files.forEach((f, i) => {
      whole.add(`${f.folder}${f.domain}.plist`, 'h', 'u', f.domain);
      shares[shareOf[i]!]!.add(`${f.folder}${f.domain}.plist`, 'h', 'u', f.domain);
    });
    const merged = new FolderSiblings(loadCatalog());
    for (const share of shares) for (const found of share.take()) merged.merge(found);
    const seen = (list: { folder: string; domains: string[] }[]) => list.map((o) => `${o.folder} ${[...o.domains].sort().join(',')}`).sort();
    assert.deepEqual(seen(merged.take()), seen(whole.take()));
  }), { numRuns: 500 });
});

test('a folder of a pull that cannot be listed is an audit/unreadable finding, threads or not, and the rest is audited', () => {
  const dir = tempDir();
  const pull = threadedPull(dir);
  // Longer than PATH_MAX (4,096 bytes), made one level at a time relative to the last: this was exit 2, no report.
  execFileSync('python3', ['-c', `import os, sys
d = os.open(sys.argv[1], os.O_RDONLY)
for name in ['MAC-deep', 'Users', 'eve'] + ['a' * 200] * 25:
    os.mkdir(name, dir_fd=d)
    n = os.open(name, os.O_RDONLY, dir_fd=d); os.close(d); d = n`, pull]);
  let runs;
  let oneMac;
  try {
    runs = ['0', '2'].map((threads) => mdmgen(['audit', EXAMPLE, 'pull', '--format', 'json'], { cwd: dir, env: { MDMGEN_THREADS: threads } }));
    oneMac = mdmgen(['audit', EXAMPLE, 'pull/MAC-deep', '--format', 'json'], { cwd: dir });
  } finally {
    execFileSync('rm', ['-rf', join(pull, 'MAC-deep')]); // Node's rmSync, which cleans up after the tests, cannot
  }
  assert.equal(runs[0]!.code, 1, runs[0]!.stderr);
  assert.equal(runs[1]!.stdout, runs[0]!.stdout, 'threads give the same report');
  const { summary, findings } = JSON.parse(runs[0]!.stdout) as JsonReport;
  assert.equal(summary.files, 300);
  const unlisted = findings.filter((f) => f.code === 'audit/unreadable');
  assert.equal(unlisted.length, 1);
  assert.deepEqual([unlisted[0]!.host, unlisted[0]!.user, unlisted[0]!.message], ['MAC-deep', 'eve', 'cannot list this folder (the name is too long); the plists in it, if any, are not audited']);
  assert.match(unlisted[0]!.file, /^pull\/MAC-deep\/Users\/eve(\/a{200})+$/);
  const underMac = (JSON.parse(oneMac.stdout) as JsonReport).findings.find((f) => f.code === 'audit/unreadable')!;
  assert.deepEqual([underMac.host, underMac.user], ['MAC-deep', 'eve'], 'a PATH that is the Mac\'s own folder names the host');
});

test('a folder whose name is not UTF-8 (a broken copy; a Mac writes none) is a finding that says so, not "ENOENT"', () => {
  const dir = tempDir();
  const pull = threadedPull(dir);
  execFileSync('python3', ['-c', 'import os, sys; os.makedirs(os.path.join(sys.argv[1].encode(), b"MAC-latin/Users/j\\xf6rg/Library/Preferences"))', pull]);
  const runs = ['0', '2'].map((threads) => mdmgen(['audit', EXAMPLE, 'pull', '--format', 'json'], { cwd: dir, env: { MDMGEN_THREADS: threads } }));
  assert.equal(runs[1]!.stdout, runs[0]!.stdout, 'threads give the same report');
  const unlisted = (JSON.parse(runs[0]!.stdout) as JsonReport).findings.filter((f) => f.code === 'audit/unreadable');
  assert.deepEqual(unlisted.map((f) => [f.file, f.host, f.user, f.message]), [['pull/MAC-latin/Users/j\ufffdrg', 'MAC-latin', 'j\ufffdrg', 'cannot list this folder (its name is not UTF-8; rename it); the plists in it, if any, are not audited']]);
});

test('a plist of a pull replaced, after it was listed, by a link or a FIFO is neither followed nor waited on', () => {
  const dir = tempDir();
  symlinkSync(DEVIANT, join(dir, 'com.microsoft.Messenger.plist'));
  execFileSync('mkfifo', [join(dir, 'com.microsoft.MessengerDaemon.plist')]);
  assert.deepEqual(readPulled(dir, 'pull', 'com.microsoft.Messenger.plist', 'com.microsoft.Messenger').bytes, { problem: 'cannot read it (it is a symbolic link, which the audit does not follow)' });
  // Opened without blocking, a FIFO refuses the positioned read (opened blocking, it waited for a writer forever).
  assert.deepEqual(readPulled(dir, 'pull', 'com.microsoft.MessengerDaemon.plist', 'com.microsoft.MessengerDaemon').bytes, { problem: 'cannot read it (not a regular file)' });
});

test('a pulled file is named by the PATH as typed, joined as path.join would, however the PATH is spelled', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'MAC-1/Users/ann'), { recursive: true });
  const rel = 'MAC-1/Users/ann/com.microsoft.Messenger.plist';
  writeFileSync(join(dir, rel), readFileSync(DEVIANT));
  for (const arg of ['pull', 'pull/', './pull', 'pull//', '.', './', 'a/..', '/srv/pull', '/', '..', '../x/./pull/']) {
    const read = readPulled(dir, arg, rel, 'com.microsoft.Messenger');
    assert.deepEqual([read.file, read.host, read.user], [join(arg, rel), 'MAC-1', 'ann'], arg);
  }
  // One Mac's own folder as the PATH: its name is the host, for each root in turn.
  assert.equal(readPulled(join(dir, 'MAC-1'), 'MAC-1', 'Users/ann/com.microsoft.Messenger.plist', 'com.microsoft.Messenger').host, 'MAC-1');
  assert.equal(readPulled(join(dir, 'MAC-1/Users'), 'MAC-1/Users', 'ann/com.microsoft.Messenger.plist', 'com.microsoft.Messenger').host, null);
});

test('an archive of a pull replaced, after it was listed, by a link or a FIFO, or gone, is an archive error; an archive named as a PATH is followed', async () => {
  const dir = tempDir();
  const zip = join(dir, 'real.zip');
  execFileSync('zip', ['-qr', zip, '.'], { cwd: PULLED });
  const tgz = join(dir, 'real.tar.gz');
  execFileSync('tar', ['-czf', tgz, '-C', PULLED, '.']);
  for (const [real, kind] of [[zip, 'zip'], [tgz, 'tar.gz']] as const) {
    symlinkSync(real, join(dir, `link.${kind}`));
    execFileSync('mkfifo', [join(dir, `fifo.${kind}`)]);
    const read = async (name: string, flags: number) => {
      let plists = 0;
      try {
        await pulledFiles(dir, name, (path) => (path.endsWith('.plist') ? 'com.microsoft.Messenger' : undefined), () => void plists++, undefined, flags);
        return plists;
      } catch (error) {
        assert.ok(error instanceof ArchiveError, String(error));
        return error.message;
      }
    };
    assert.equal(await read(`link.${kind}`, IN_PULL), 'cannot read it (it is a symbolic link, which the audit does not follow)');
    assert.equal(await read(`fifo.${kind}`, IN_PULL), 'not a regular file', 'refused at once, never waiting for a writer');
    assert.equal(await read(`gone.${kind}`, IN_PULL), 'cannot read it (no such file)');
    assert.equal(await read(`link.${kind}`, AS_GIVEN), 17, 'a PATH the admin gives is followed');
  }
});

test('control and bidirectional characters from a pull reach a terminal as escapes, never raw, in every format printed; the JSON keeps them exact', () => {
  const dir = tempDir();
  // A host folder and a key made to erase the line above and recolour the screen, and a key with U+202E.
  const host = 'MAC-9\u001b[1A\u001b[2K';
  const prefs = join(dir, host, 'Users', 'eve', 'Library', 'Preferences', 'Microsoft');
  mkdirSync(prefs, { recursive: true });
  execFileSync('python3', ['-c', `import plistlib, sys
open(sys.argv[1], 'wb').write(plistlib.dumps({'DisallowSave': True, '\\x1b[2J\\x1b[31mEVIL': 'x', 'Greeting\\u202e': 'y', 'CSI\\x9b2J': 'z'}, fmt=plistlib.FMT_BINARY))`, join(prefs, 'com.microsoft.Messenger.plist')]);
  cpSync(join(PULLED, 'MAC-0101/Users/jdoe/Library/Preferences/Microsoft/com.microsoft.MessengerDaemon.plist'), join(prefs, 'com.microsoft.MessengerDaemon.plist'));
  const stylish = mdmgen(['audit', EXAMPLE, dir]);
  assert.equal(stylish.code, 0, stylish.stderr);
  assert.doesNotMatch(stylish.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/, 'no raw control or bidi character');
  assert.match(stylish.stdout, /^MAC-9\\u001b\[1A\\u001b\[2K \/ eve$/m);
  assert.match(stylish.stdout, /\\u001b\[2J\\u001b\[31mEVIL is not a com\.microsoft\.Messenger key/);
  assert.match(stylish.stdout, /Greeting\\u202e is not a com\.microsoft\.Messenger key/);
  // JSON escapes C0 itself; C1 (xterm reads a UTF-8 U+009B as CSI) and bidi characters are escaped too, the same data.
  for (const format of ['json', 'sarif']) assert.doesNotMatch(mdmgen(['audit', EXAMPLE, dir, '--format', format]).stdout, /[\u007f-\u009f\u202a-\u202e]/, format);
  const plist = join(prefs, 'com.microsoft.Messenger.plist');
  assert.doesNotMatch(mdmgen(['inspect', plist]).stdout, /[\u007f-\u009f\u202a-\u202e]/, 'inspect');
  const yaml = mdmgen(['inspect', plist, '--format', 'yaml']).stdout;
  assert.doesNotMatch(yaml, /[\u007f-\u009f\u202a-\u202e]/, 'inspect --format yaml');
  assert.deepEqual(Object.keys((parseYaml(yaml) as { content: object }).content).sort(), ['\u001b[2J\u001b[31mEVIL', 'CSI\u009b2J', 'DisallowSave', 'Greeting\u202e']);
  const { report } = auditJson(EXAMPLE, dir);
  assert.deepEqual(report.findings.filter((f) => f.code === 'audit/unknown-key').map((f) => [f.host, f.key]).sort(), [[host, '\u001b[2J\u001b[31mEVIL'], [host, 'CSI\u009b2J'], [host, 'Greeting\u202e']]);
});

test('stylish groups by host and user; csv, junit and sarif carry the same findings and parse in other tools', () => {
  const stylish = mdmgen(['audit', EXAMPLE, PULLED]).stdout;
  assert.match(stylish, /^MAC-0217 \/ jgarcia \(Legal\)\n {2}.*com\.microsoft\.Messenger\.plist:7 {2}error {2}DisallowSave is false; the policy forces true {2}audit\/value-mismatch$/m);
  assert.match(stylish, /7 findings \(5 errors, 1 warning, 1 info\) in 17 plists from 8 hosts and 8 users; 1 unreadable\n$/);

  const csvText = mdmgen(['audit', EXAMPLE, PULLED, '--format', 'csv']).stdout;
  const rows = JSON.parse(execFileSync('python3', ['-c', 'import csv,json,sys; print(json.dumps(list(csv.DictReader(sys.stdin))))'], { input: csvText }).toString()) as Record<string, string>[];
  assert.equal(rows.length, 7);
  assert.deepEqual(rows.map((r) => r.code), ['audit/value-mismatch', 'audit/value-mismatch', 'audit/unknown-key', 'audit/type-mismatch', 'audit/missing-plist', 'audit/missing-key', 'audit/unreadable']);
  assert.equal(rows[3]!.actual, '"4" (string)');

  const junit = mdmgen(['audit', EXAMPLE, PULLED, '--format', 'junit']).stdout;
  const parsed = JSON.parse(execFileSync('python3', ['-c', 'import json,sys,xml.etree.ElementTree as E; r=E.fromstring(sys.stdin.read()); print(json.dumps([[c.get("name"), len(c.findall("failure"))] for c in r.iter("testcase")]))'], { input: junit }).toString()) as [string, number][];
  assert.equal(parsed.length, 18, 'one test case per audited plist, and one for the missing one');
  assert.equal(parsed.filter(([, failures]) => failures > 0).length, 5);

  const sarif = JSON.parse(mdmgen(['audit', EXAMPLE, PULLED, '--format', 'sarif']).stdout) as { version: string; runs: { tool: { driver: { name: string; rules: { id: string }[] } }; results: { ruleId: string; level: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } } }[] }[] }[] };
  assert.equal(sarif.version, '2.1.0');
  assert.equal(sarif.runs[0]!.tool.driver.name, 'mdmgen');
  assert.deepEqual(sarif.runs[0]!.results.map((r) => r.level), ['note', 'error', 'warning', 'error', 'error', 'error', 'error']);
  assert.ok(sarif.runs[0]!.results.every((r) => sarif.runs[0]!.tool.driver.rules.some((rule) => rule.id === r.ruleId)));
  assert.equal(sarif.runs[0]!.results[1]!.locations[0]!.physicalLocation.region!.startLine, 7);
});

test('csv cells a spreadsheet would run as a formula are defused', () => {
  const dir = tempDir();
  const plist = join(dir, 'MAC/Users/u/Library/Preferences/Microsoft/com.microsoft.Messenger.plist');
  mkdirSync(join(plist, '..'), { recursive: true });
  writeFileSync(plist, '<?xml version="1.0"?>\n<plist version="1.0"><dict><key>=HYPERLINK("http://x")</key><string>a</string><key>DisallowSave</key><true/></dict></plist>\n');
  const csvText = mdmgen(['audit', EXAMPLE, dir, '--format', 'csv']).stdout;
  assert.match(csvText, /,"'=HYPERLINK\(""http:\/\/x""\)",/);
});

/** A small deterministic PRNG, so a failing case can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

test('property: random fleets build twice to identical bytes, and audited against themselves give no finding (XML and binary)', { timeout: 120_000 }, () => {
  const catalog = loadCatalog();
  const candidates = [...catalog.values()].flatMap((d) => [...d.keys.values()].filter((k) => k.status === 'applies' && !/^PortRange|RTCConfigurationMode|EnableKerberosLogin/.test(k.name)).map((k) => ({ domain: d.domain, key: k })));
  for (let seed = 1; seed <= 6; seed++) {
    const random = prng(seed);
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
    const value = (k: (typeof candidates)[number]['key']) => {
      switch (k.type) {
        case 'boolean': return random() < 0.5 ? 'true' : 'false';
        case 'integer': return k.values ? pick(Object.keys(k.values)) : String(Math.max(k.minimum ?? 0, Math.floor(random() * 1000)));
        case 'string': return JSON.stringify(pick(['lcs.example.com', 'Café 東京 & <x>', '', 'a "quoted" value']));
        case 'data': return JSON.stringify(Buffer.from([1, 2, 3, Math.floor(random() * 256)]).toString('base64'));
      }
    };
    const block = (indent: string) => {
      const chosen = new Map<string, string[]>();
      for (let i = 0; i < 6; i++) {
        const { domain, key } = pick(candidates);
        const manage = pick(['forced', 'once', 'often']);
        const lines = chosen.get(domain) ?? [];
        if (!lines.some((l) => l.trimStart().startsWith(`${key.name}:`))) lines.push(`${indent}    ${key.name}: { value: ${value(key)}, manage: ${manage} }`);
        chosen.set(domain, lines);
      }
      return [...chosen].map(([domain, lines]) => `${indent}  ${domain}:\n${lines.join('\n')}`).join('\n');
    };
    const dir = tempDir();
    const groups = ['Eng', 'Ops'];
    writeFileSync(join(dir, 'users.csv'), 'name,dept\n' + ['a', 'b', 'c', 'd'].map((u, i) => `${u},${[...groups, '', 'Elsewhere'][i]}`).join('\n') + '\n');
    const fleet = `mdmgen: 1\norganization: { name: P, identifier: com.example.p }\ndirectory: { file: users.csv, columns: { user: name, group: dept } }\npreferences:\n${block('')}\ngroups:\n${groups.map((g) => `  ${g}:\n    preferences:\n${block('    ')}`).join('\n')}\n`;
    writeFileSync(join(dir, 'fleet.yaml'), fleet);
    for (const format of ['xml', 'binary']) {
      const out = join(dir, `build-${format}`);
      const built = mdmgen(['build', join(dir, 'fleet.yaml'), '-o', out, '--plist-format', format]);
      assert.equal(built.code, 0, `seed ${seed}: ${built.stderr}\n${fleet}`);
      const again = join(dir, `again-${format}`);
      assert.equal(mdmgen(['build', join(dir, 'fleet.yaml'), '-o', again, '--plist-format', format], { env: { TZ: 'Pacific/Chatham', LANG: 'tr_TR.UTF-8' } }).code, 0);
      assert.deepEqual(snapshotTree(again), snapshotTree(out), `seed ${seed} (${format}): two builds differ`);
      const pulled = join(dir, `pulled-${format}`);
      ['a', 'b', 'c', 'd'].forEach((user, i) => {
        const source = i < 2 ? `groups/${groups[i]}` : 'base';
        for (const file of listTree(join(out, 'plists', source))) {
          const target = join(pulled, `MAC-${i}`, 'Users', user, 'Library/Preferences/Microsoft', file);
          mkdirSync(join(target, '..'), { recursive: true });
          cpSync(join(out, 'plists', source, file), target);
        }
      });
      const { code, report } = auditJson(join(dir, 'fleet.yaml'), pulled);
      assert.deepEqual(report.findings, [], `seed ${seed} (${format}):\n${fleet}`);
      assert.equal(code, 0);
      assert.equal(report.summary.files, 8);
    }
  }
});

test('the audit goes on past an unreadable file', () => {
  const dir = tempDir();
  const good = join(dir, 'MAC-1/Users/jdoe/Library/Preferences/Microsoft');
  const broken = join(dir, 'MAC-2/Users/jdoe/Library/Preferences/Microsoft');
  mkdirSync(good, { recursive: true });
  mkdirSync(broken, { recursive: true });
  cpSync(join(PULLED, 'MAC-0101/Users/jdoe/Library/Preferences/Microsoft'), good, { recursive: true });
  writeFileSync(join(broken, 'com.microsoft.Messenger.plist'), 'bplist00garbage');
  writeFileSync(join(broken, 'com.microsoft.MessengerDaemon.plist'), '<plist><dict><key>RTCTransport</key><string>4</string></dict></plist>');
  const { report } = auditJson(exampleCopy(), dir);
  assert.deepEqual(report.findings.map((f) => [f.host, f.code]).filter(([h]) => h === 'MAC-2').slice(0, 2), [['MAC-2', 'audit/unreadable'], ['MAC-2', 'audit/missing-key']]);
  assert.equal(report.summary.files, 4);
  assert.ok(!report.findings.some((f) => f.host === 'MAC-1'));
});

test('a plist of 300,000 made-up keys gives 20 unknown-key findings and one that counts the rest; duplicate keys the same', () => {
  const pull = tempDir();
  const dir = join(pull, 'MAC-1/Users/jdoe/Library/Preferences/Microsoft');
  mkdirSync(dir, { recursive: true });
  const keys: Record<string, boolean> = { DisallowSave: true };
  for (let i = 0; i < 300_000; i++) keys[`Made${String(i).padStart(6, '0')}`] = true;
  writeFileSync(join(dir, 'com.microsoft.Messenger.plist'), writeBinaryPlist(keys));
  const duplicates = Array.from({ length: 50 }, () => '<key>RTCTransport</key><integer>4</integer>').join('\n');
  writeFileSync(join(dir, 'com.microsoft.MessengerDaemon.plist'), `<plist><dict>\n${duplicates}\n</dict></plist>`);
  const { code, report } = auditJson(exampleCopy(), pull);
  assert.equal(code, 1);
  assert.ok(validateFindings(report), JSON.stringify(validateFindings.errors));
  const unknown = report.findings.filter((f) => f.code === 'audit/unknown-key');
  assert.deepEqual(unknown.slice(0, 20).map((f) => f.key), Array.from({ length: 20 }, (_, i) => `Made${String(i).padStart(6, '0')}`));
  assert.deepEqual(unknown.slice(20).map((f) => [f.key, f.severity, f.message]), [[null, 'warning', '... and 299980 more audit/unknown-key findings in this file, from this line on']]);
  const repeated = report.findings.filter((f) => f.code === 'audit/duplicate-key');
  assert.equal(repeated.length, 21);
  assert.deepEqual(repeated.at(-1)!.message, '... and 29 more audit/duplicate-key findings in this file, from this line on');
  assert.equal(repeated.at(-1)!.line, 23, 'the line of the first duplicate left out');
});

test('a report whose reader went away ends quietly; one that cannot be written (a full disk) is exit 2, saying so', async () => {
  // 300 Macs whose MessengerDaemon plist is empty make a report of more than a pipe holds: its reader goes
  // after the first piece (as `| head` does), and mdmgen, waiting for the rest to drain, must still end.
  const large = tempDir();
  for (let i = 0; i < 300; i++) {
    const dir = join(large, `MAC-${i}/Users/user${i}/Library/Preferences/Microsoft`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'com.microsoft.MessengerDaemon.plist'), '<plist><dict/></plist>');
  }
  assert.ok(mdmgen(['audit', EXAMPLE, large, '--format', 'json']).stdout.length > 1_000_000);
  for (const pull of [PULLED, large]) {
    // One that hangs is killed, and its exit status is then null.
    const child = spawn(process.execPath, [BIN, 'audit', EXAMPLE, pull, '--format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'], signal: AbortSignal.timeout(30_000) });
    child.on('error', () => undefined);
    if (pull === large) await once(child.stdout, 'data');
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'close')) as [number];
    assert.equal(stderr, '', 'no EPIPE stack trace');
    assert.equal(code, 1, 'the exit status the findings give');
  }
  const full = openSync('/dev/full', 'w');
  try {
    const run = spawnSync(process.execPath, [BIN, 'audit', EXAMPLE, PULLED, '--format', 'json'], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.equal(run.stderr, 'mdmgen: cannot write to stdout: the disk is full\n');
  } finally {
    closeSync(full);
  }
});

test('a PATH that is a symlink is followed; a symlink inside a pull is not (a pull is untrusted)', () => {
  const dir = tempDir();
  const link = join(dir, 'pulled');
  symlinkSync(PULLED, link);
  const direct = auditJson(EXAMPLE, PULLED).report;
  const linked = auditJson(EXAMPLE, link).report;
  assert.equal(linked.summary.files, direct.summary.files);
  assert.deepEqual(linked.findings.map((f) => [f.code, f.host, f.user, f.key]), direct.findings.map((f) => [f.code, f.host, f.user, f.key]));
  symlinkSync(DEVIANT, join(dir, 'com.microsoft.Messenger.plist'));
  assert.equal(auditJson(EXAMPLE, join(dir, 'com.microsoft.Messenger.plist')).report.summary.files, 1);

  const pull = join(dir, 'pull', 'MAC-1', 'Users', 'ann', 'Library', 'Preferences', 'Microsoft');
  mkdirSync(pull, { recursive: true });
  symlinkSync(DEVIANT, join(pull, 'com.microsoft.Messenger.plist'));
  symlinkSync(join(dir, 'pull'), join(pull, 'loop'));
  const inside = auditJson(EXAMPLE, join(dir, 'pull'));
  assert.equal(inside.report.summary.files, 0);
  assert.deepEqual(inside.report.findings.map((f) => f.code), ['audit/no-plists']);
});

test('a plist reached by two PATHs (one given twice, one inside another, a link to one) is audited and counted once, saying so on stderr', () => {
  const link = join(tempDir(), 'pulled');
  symlinkSync(PULLED, link);
  const once = auditJson(EXAMPLE, PULLED);
  const mac = join(PULLED, 'MAC-0217');
  const twice = auditJson(EXAMPLE, mac, PULLED, `${PULLED}/`, link, DEVIANT);
  assert.deepEqual(twice.report.summary, once.report.summary);
  assert.deepEqual(twice.report.findings, once.report.findings);
  assert.equal(twice.stderr, [
    `mdmgen: ${mac} is inside ${PULLED}: audited once`,
    `mdmgen: ${PULLED}/ is ${PULLED} again: audited once`,
    `mdmgen: ${link} is ${PULLED} again: audited once`,
    `mdmgen: ${DEVIANT} is inside ${PULLED}: audited once`,
    '',
  ].join('\n'));
  // Two Macs' folders side by side are two PATHs, each audited.
  assert.equal(auditJson(EXAMPLE, mac, join(PULLED, 'MAC-0218')).report.summary.files, 4);
});

test('a zip of pulls is read entry by entry: stored and deflated entries are audited; a lying size, encryption, an unknown method, a bad local header or damaged data is audit/unreadable, and the run goes on', () => {
  const dir = tempDir();
  const hosts = ['stored', 'deflated', 'bomb', 'encrypted', 'bzip2', 'badheader', 'damaged'];
  const entry = (host: string) => `${host}/Users/u/Library/Preferences/Microsoft/com.microsoft.Messenger.plist`;
  const zipPath = join(dir, 'pulls.zip');
  execFileSync('python3', ['-c', `
import sys, zipfile
data = open(sys.argv[1], 'rb').read()
with zipfile.ZipFile(sys.argv[2], 'w') as z:
    for host in sys.argv[3:]:
        name = host + '/Users/u/Library/Preferences/Microsoft/com.microsoft.Messenger.plist'
        body = b'<' * (1 << 20) if host == 'bomb' else data
        z.writestr(zipfile.ZipInfo(name, (2001, 1, 1, 0, 0, 0)), body, zipfile.ZIP_STORED if host in ('stored', 'damaged') else zipfile.ZIP_DEFLATED)
`, DEVIANT, zipPath, ...hosts]);
  // Each central directory record (APPNOTE 4.3.12) is patched to lie in one way.
  const zip = readFileSync(zipPath);
  for (let at = zip.indexOf(Buffer.from('PK\u0001\u0002', 'latin1')); at >= 0; at = zip.indexOf(Buffer.from('PK\u0001\u0002', 'latin1'), at + 4)) {
    const host = zip.subarray(at + 46, at + 46 + zip.readUInt16LE(at + 28)).toString().split('/')[0];
    if (host === 'bomb') zip.writeUInt32LE(100, at + 24);
    if (host === 'encrypted') zip.writeUInt16LE(zip.readUInt16LE(at + 8) | 1, at + 8);
    if (host === 'bzip2') zip.writeUInt16LE(12, at + 10);
    if (host === 'badheader') zip.writeUInt32LE(zip.readUInt32LE(at + 42) + 1, at + 42);
    // Its stored data damaged in place, so that it still reads as a plist, one that complies.
    if (host === 'damaged') zip.write('<true/> ', zip.indexOf('<false/>', zip.readUInt32LE(at + 42)), 'latin1');
  }
  writeFileSync(zipPath, zip);
  const { code, report } = auditLonePlists(EXAMPLE, zipPath);
  assert.equal(code, 1);
  assert.deepEqual({ files: report.summary.files, unreadable: report.summary.unreadable }, { files: 7, unreadable: 5 });
  const byHost = new Map(report.findings.map((f) => [f.host, f]));
  for (const host of ['stored', 'deflated']) assert.deepEqual([byHost.get(host)?.code, byHost.get(host)?.key], ['audit/value-mismatch', 'DisallowSave'], host);
  assert.match(byHost.get('bomb')!.message, /cannot be extracted/);
  assert.match(byHost.get('encrypted')!.message, /cannot be extracted \(it is encrypted\)/);
  assert.match(byHost.get('bzip2')!.message, /unsupported compression method 12/);
  assert.match(byHost.get('badheader')!.message, /no local file header where the directory says/);
  assert.match(byHost.get('damaged')!.message, /cannot be extracted \(its CRC-32 does not match: the archive is damaged\)/);
  assert.ok(report.findings.every((f) => f.file === `${zipPath}!/${entry(f.host!)}`));

  // A zip written as a stream, as uploads often are: the local header leaves the sizes to a descriptor after the data.
  const streamed = join(dir, 'streamed.zip');
  writeFileSync(streamed, execFileSync('python3', ['-c', `import sys, zipfile
z = zipfile.ZipFile(sys.stdout.buffer, 'w', zipfile.ZIP_DEFLATED)
z.write(sys.argv[1], '${entry('MAC-1')}')
z.close()`, DEVIANT]));
  assert.equal(readFileSync(streamed).readUInt16LE(6) & 8, 8, 'the sizes come after the data');
  assert.deepEqual(auditLonePlists(EXAMPLE, streamed).report.findings.map((f) => [f.host, f.code, f.key]), [['MAC-1', 'audit/value-mismatch', 'DisallowSave']]);
});

test('archive entries named with an absolute path, .. or backslashes are audited under those names (nothing is extracted), in a zip as in a tar.gz', () => {
  const dir = tempDir();
  const names = ['../../MAC-1/Users/bob/com.microsoft.Messenger.plist', '/abs/MAC-2/Users/amy/com.microsoft.Messenger.plist', 'C:/MAC-3/Users/cat/com.microsoft.Messenger.plist', 'MAC-4\\Users\\dan\\com.microsoft.Messenger.plist', 'MAC-5/Users/eve/com.microsoft.Messenger.plist'];
  const [zipPath, tarPath] = [join(dir, 'pulls.zip'), join(dir, 'pulls.tar.gz')];
  execFileSync('python3', ['-c', `
import io, sys, tarfile, zipfile
data = open(sys.argv[1], 'rb').read()
with zipfile.ZipFile(sys.argv[2], 'w') as z:
    for name in sys.argv[4:]:
        info = zipfile.ZipInfo('x', (2001, 1, 1, 0, 0, 0))
        info.filename = name  # as written, where ZipInfo() would clean it
        z.writestr(info, data)
with tarfile.open(sys.argv[3], 'w:gz') as t:
    for name in sys.argv[4:]:
        info = tarfile.TarInfo(name.replace('\\\\', '/'))
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
`, DEVIANT, zipPath, tarPath, ...names]);
  for (const archive of [zipPath, tarPath]) {
    const { report } = auditLonePlists(EXAMPLE, archive);
    assert.equal(report.summary.files, 5, archive);
    assert.deepEqual(report.findings.map((f) => [f.file, f.host, f.code]), names.map((n, i) => [`${archive}!/${n.replaceAll('\\', '/')}`, `MAC-${i + 1}`, 'audit/value-mismatch']), archive);
  }
});

test('a zip larger than its read windows: 3,000 entries and a 600 KB one, read whole across every window boundary', () => {
  const dir = tempDir();
  const zipPath = join(dir, 'pulls.zip');
  execFileSync('python3', ['-c', `
import sys, zipfile
data = open(sys.argv[1], 'rb').read()
large = data.replace(b'<dict>', b'<!--' + b'x' * 600000 + b'--><dict>', 1)
with zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_STORED) as z:
    for i in range(3000):
        z.writestr('MAC-%04d/u/com.microsoft.Messenger.plist' % i, large if i == 1500 else data)
`, DEVIANT, zipPath]);
  const { report } = auditJson(EXAMPLE, zipPath);
  assert.deepEqual({ files: report.summary.files, unreadable: report.summary.unreadable, hosts: report.summary.hosts }, { files: 3000, unreadable: 0, hosts: 3000 });
  const disallow = report.findings.filter((f) => f.key === 'DisallowSave' && f.code === 'audit/value-mismatch');
  assert.equal(disallow.length, 3000);
  assert.equal(disallow[1500]!.host, 'MAC-1500');
  assert.equal(disallow[1500]!.line, disallow[0]!.line, 'the comment is on the line before the dictionary');
});

test('a tar.gz: a plist over 16 MB is audit/unreadable without being read, and a damaged header stops the archive with its offset, after the plists before it', () => {
  const dir = tempDir();
  const tarPath = join(dir, 'pulls.tar.gz');
  execFileSync('python3', ['-c', `
import gzip, io, sys, tarfile
data = open(sys.argv[1], 'rb').read()
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode='w', format=tarfile.GNU_FORMAT) as t:
    for host, body in (('MAC-1', data), ('MAC-2', bytes(17 * 1024 * 1024)), ('MAC-3', data)):
        info = tarfile.TarInfo(host + '/u/com.microsoft.Messenger.plist'); info.size = len(body); t.addfile(info, io.BytesIO(body))
tar = bytearray(raw.getvalue())
third = tar.index(b'MAC-3/')
tar[third + 2] ^= 1
open(sys.argv[2], 'wb').write(gzip.compress(bytes(tar), mtime=0))
print(third)
`, DEVIANT, tarPath]);
  const { report } = auditLonePlists(EXAMPLE, tarPath);
  assert.equal(report.summary.files, 2);
  assert.deepEqual(report.findings.map((f) => [f.host, f.code, f.file === tarPath ? f.message : /more than the/.test(f.message)]), [
    [null, 'audit/unreadable', `not a readable tar.gz archive (the header at byte ${512 * 2 + 17 * 1024 * 1024 + 512} of the uncompressed stream has a wrong checksum (not a tar archive, or a damaged one))`],
    ['MAC-1', 'audit/value-mismatch', false],
    ['MAC-2', 'audit/unreadable', true],
  ]);
});

/**
 * A zip written by hand (APPNOTE 4.3.7, 4.3.12, 4.3.16), DEVIANT stored under each host. `record` is the
 * Python expression of each central directory record's (version, sizes, local header offset, extra field),
 * from `host`, `data` and `offset`.
 */
function handWrittenZip(zipPath: string, hosts: string[], record: string): void {
  execFileSync('python3', ['-c', `
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
crc = zlib.crc32(data)
out, records = b'', b''
for host in sys.argv[3:]:
    name = (host + '/u/com.microsoft.Messenger.plist').encode()
    offset = len(out)
    out += struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, 0, 0, 0, 0, crc, len(data), len(data), len(name), 0) + name + data
    version, size, at, extra = ${record}
    records += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, version, version, 0, 0, 0, 0, crc, size, size, len(name), len(extra), 0, 0, 0, 0, at) + name + extra
out += records + struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, len(sys.argv) - 3, len(sys.argv) - 3, len(records), len(out), 0)
open(sys.argv[2], 'wb').write(out)
`, DEVIANT, zipPath, ...hosts]);
}

test('zip64 sizes and offsets in a central directory record are read; a record that claims them without the field is audit/unreadable', () => {
  const zipPath = join(tempDir(), 'zip64.zip');
  // APPNOTE 4.5.3: Python writes zip64 records only past 4 GB. MAC-2's record claims them without the field.
  handWrittenZip(zipPath, ['MAC-1', 'MAC-2'], "(45, 0xffffffff, 0xffffffff, struct.pack('<HHQQQ', 1, 24, len(data), len(data), offset) if host == 'MAC-1' else b'')");
  const { report } = auditLonePlists(EXAMPLE, zipPath);
  assert.equal(report.summary.files, 2);
  assert.deepEqual(report.findings.filter((f) => f.host === 'MAC-1').map((f) => f.code).sort(), ['audit/value-mismatch']);
  assert.deepEqual(report.findings.filter((f) => f.host === 'MAC-2').map((f) => [f.code, /more than the/.test(f.message)]), [['audit/unreadable', true]]);
});

test('a directory record whose extra field claims more bytes than it holds stops the zip there, after the plists before it, and the run goes on', () => {
  const zipPath = join(tempDir(), 'extra.zip');
  // Found by the mutation property test (archive-properties): yauzl's parseExtraFields threw a plain Error, which ended the whole audit.
  handWrittenZip(zipPath, ['MAC-1', 'MAC-2', 'MAC-3'], "(20, len(data), offset, struct.pack('<HH', 0x5455, 100) + b'1234' if host == 'MAC-2' else b'')");
  const { code, report, stderr } = auditJson(EXAMPLE, zipPath, PULLED);
  assert.equal(code, 1, stderr);
  assert.deepEqual(report.findings.filter((f) => f.file === zipPath).map((f) => [f.code, f.message]), [
    ['audit/unreadable', 'not a readable zip archive (central directory record 2 of 3: extra field length exceeds extra field buffer size)'],
  ]);
  assert.deepEqual([...new Set(report.findings.filter((f) => f.file.startsWith(`${zipPath}!/`)).map((f) => f.host))], ['MAC-1']);
  assert.ok(report.findings.some((f) => f.file.startsWith(PULLED)), 'the folder after it was audited');
});

test('a truncated zip, tar.gz or tar is an audit/unreadable finding for the archive, and the run goes on to the next PATH', () => {
  const dir = tempDir();
  execFileSync('tar', ['-czf', join(dir, 'full.tar.gz'), '-C', PULLED, '.']);
  execFileSync('tar', ['-cf', join(dir, 'full.tar'), '-C', PULLED, '.']);
  execFileSync('python3', ['-c', 'import shutil, sys; shutil.make_archive(sys.argv[1], "zip", sys.argv[2])', join(dir, 'full'), PULLED]);
  for (const name of ['full.tar.gz', 'full.zip']) {
    const bytes = readFileSync(join(dir, name));
    writeFileSync(join(dir, `cut-${name}`), bytes.subarray(0, bytes.length - 100));
  }
  // A tar cut inside its second entry (the end blocks and padding would otherwise be all that goes).
  writeFileSync(join(dir, 'cut-full.tar'), readFileSync(join(dir, 'full.tar')).subarray(0, 512 * 3 + 100));
  const { code, report, stderr } = auditJson(EXAMPLE, join(dir, 'cut-full.tar.gz'), join(dir, 'cut-full.zip'), join(dir, 'cut-full.tar'), PULLED);
  assert.equal(code, 1, stderr);
  const broken = report.findings.filter((f) => f.file.startsWith(join(dir, 'cut-')) && !f.file.includes('!/'));
  assert.deepEqual(broken.map((f) => [f.file, f.code, f.severity]), ['cut-full.tar', 'cut-full.tar.gz', 'cut-full.zip'].map((name) => [join(dir, name), 'audit/unreadable', 'error']));
  assert.match(broken[0]!.message, /^not a readable tar archive \(the archive ends in the middle of an entry \(byte 1636 of the uncompressed stream\)\)$/);
  assert.match(broken[1]!.message, /^not a readable tar\.gz archive \(.+\)$/);
  assert.match(broken[2]!.message, /^not a readable zip archive \(.+\)$/);
  assert.ok(report.findings.some((f) => f.file.startsWith(PULLED) && f.code === 'audit/value-mismatch'), 'the folder after them was audited');
  assert.ok(validateFindings(report), JSON.stringify(validateFindings.errors));
});
