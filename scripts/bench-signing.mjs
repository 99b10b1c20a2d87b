// Signing throughput on one core, next to `openssl speed` measured in the same run (issue 4's bound:
// within 1.3x of openssl's RSA-2048 signatures per second). Prints one table; asserts nothing.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCertificates } from '../dist/src/pki/certificates.js';
import { signer } from '../dist/src/pki/cms.js';
import { createPrivateKey } from 'node:crypto';
import { writeXmlPlist } from '../dist/src/plist/write-xml.js';

const dir = mkdtempSync(join(tmpdir(), 'mdmgen-bench-sign-'));
const openssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rsa.key', '-out', 'rsa.pem', '-days', '30', '-subj', '/CN=Bench RSA');
openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ec.key', '-out', 'ec.pem', '-days', '30', '-subj', '/CN=Bench EC');

const profile = writeXmlPlist({ PayloadType: 'Configuration', PayloadVersion: 1, PayloadIdentifier: 'com.example.bench', PayloadContent: [{ PayloadType: 'com.apple.ManagedClient.preferences', PayloadContent: { 'com.microsoft.Messenger': { Forced: [{ mcx_preference_settings: { DisallowSave: true } }] } } }] });
const speed = (alg) => Number(/\s([\d.]+)\s+[\d.]+\s*$/m.exec(openssl('speed', '-seconds', '3', alg).trim().split('\n').at(-1))?.[1]);

const rows = [];
for (const [name, alg] of [['RSA-2048', 'rsa2048'], ['EC P-256', 'ecdsap256']]) {
  const base = name.startsWith('RSA') ? 'rsa' : 'ec';
  const identity = { certificate: readCertificates(readFileSync(join(dir, `${base}.pem`)))[0], key: createPrivateKey(readFileSync(join(dir, `${base}.key`))), chain: [] };
  const sign = signer(identity);
  for (let i = 0; i < 200; i++) sign(profile); // warm up
  const start = process.hrtime.bigint();
  let n = 0;
  while (process.hrtime.bigint() - start < 3_000_000_000n) {
    sign(profile);
    n++;
  }
  const perSecond = n / (Number(process.hrtime.bigint() - start) / 1e9);
  const reference = speed(alg);
  rows.push(`| ${name} | ${perSecond.toFixed(0)} profiles/s | ${reference.toFixed(0)} signatures/s | ${(reference / perSecond).toFixed(2)}x |`);
}
console.log(`signing on one core, profile of ${profile.length} bytes, CMS with two signed attributes\n`);
console.log('| key | mdmgen signCms | openssl speed (sign) | openssl / mdmgen |\n|---|---|---|---|');
console.log(rows.join('\n'));
rmSync(dir, { recursive: true, force: true });
