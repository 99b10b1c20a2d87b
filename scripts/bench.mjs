// npm run bench [-- --groups N --users N --runs N]: measured, never asserted.
//  - `mdmgen --help` against `node -e 0` (startup must stay within 1.5x: heavy modules load on demand)
//  - validate and build of examples/fleet.yaml (target: under 300 ms each)
//  - a synthetic fleet of N groups (default 1,000): build time, files, peak RSS
//  - a synthetic directory of N users (default 10,000) with per-user profiles and a Jabber account
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { groups: { type: 'string', default: '1000' }, users: { type: 'string', default: '10000' }, runs: { type: 'string', default: '15' } } });
const userCount = Number(values.users);
const runs = Number(values.runs);
const groups = Number(values.groups);
const bin = new URL('../bin/mdmgen.js', import.meta.url).pathname;
const example = new URL('../examples/fleet.yaml', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'mdmgen-bench-'));
const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

function once(args) {
  const start = process.hrtime.bigint();
  const result = gnuTime
    ? spawnSync(gnuTime, ['-f', '%M', process.execPath, ...args], { encoding: 'utf8' })
    : spawnSync(process.execPath, args, { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  const rssKb = gnuTime ? Number(result.stderr.trim().split('\n').at(-1)) : NaN;
  return { ms, rssKb };
}

function measure(args, n = runs) {
  once(args); // warm the file cache
  const samples = Array.from({ length: n }, () => once(args));
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  return { median: sorted[Math.floor(n / 2)], min: sorted[0], rssMb: Math.max(...samples.map((s) => s.rssKb)) / 1024 };
}

const nodeBare = measure(['-e', '0']);
const help = measure([bin, '--help']);
const validate = measure([bin, 'validate', example]);
const build = measure([bin, 'build', example, '-o', join(work, 'example')]);

let fleet = 'mdmgen: 1\norganization: { name: Bench Corp, identifier: com.example.bench }\npreferences:\n  com.microsoft.MessengerDaemon:\n    RTCConfigurationMode: manual\n    RTCServerAddress: lcs.example.com\n    RTCTransport: tls\n    PortRangeEnabled: 1\n    PortRangeMinSIPDynamicPort: 50000\n    PortRangeMaxSIPDynamicPort: 50019\n  com.microsoft.Messenger:\n    DisallowSave: true\n    HideTimeStamp: { value: false, manage: once }\ngroups:\n';
for (let i = 0; i < groups; i++) fleet += `  group-${i}:\n    preferences:\n      com.microsoft.MessengerDaemon:\n        AutoIdleDelay: ${i % 60}\n`;
const bigFleet = join(work, 'fleet.yaml');
writeFileSync(bigFleet, fleet);
const big = measure([bin, 'build', bigFleet, '-o', join(work, 'big')], 3);

const departments = ['Engineering', 'Legal', 'Sales', 'Support', ''];
let csv = 'sAMAccountName,mail,userPrincipalName,department,displayName\r\n';
for (let i = 0; i < userCount; i++) csv += `user${i},user${i}@example.com,user${i}@CORP.EXAMPLE.COM,${departments[i % 5]},"User, Number ${i}"\r\n`;
writeFileSync(join(work, 'users.csv'), csv);
const directoryFleet = join(work, 'directory.yaml');
writeFileSync(directoryFleet, `mdmgen: 1
organization: { name: Bench Corp, identifier: com.example.bench }
directory: { file: users.csv, columns: { user: sAMAccountName, email: mail, upn: userPrincipalName, group: department } }
preferences:
  com.microsoft.Messenger: { DisallowSave: true, HideTimeStamp: { value: false, manage: once } }
  com.microsoft.MessengerDaemon: { RTCConfigurationMode: manual, RTCServerAddress: lcs.example.com, RTCTransport: tls, EnableKerberosLogin: true, UserLogonName: "{{upn}}", UserSIPID: "{{email}}" }
accounts:
  - { type: jabber, host: ichat.example.com, authentication: kerberos, user: "{{user}}@example.com" }
groups:
  Engineering: { preferences: { com.microsoft.Messenger: { DisallowSave: false } } }
  Legal: {}
  Sales: {}
  Support: {}
`);
const users = measure([bin, 'build', directoryFleet, '-o', join(work, 'users')], 3);

const row = (name, m, extra = '') => `| ${name} | ${m.median.toFixed(0)} ms | ${m.min.toFixed(0)} ms | ${Number.isNaN(m.rssMb) ? '-' : `${m.rssMb.toFixed(0)} MB`} | ${extra} |`;
console.log(`mdmgen bench: node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; median of ${runs} runs\n`);
console.log('| run | median | min | peak RSS | note |\n|---|---|---|---|---|');
console.log(row('node -e 0', nodeBare, 'reference'));
console.log(row('mdmgen --help', help, `${(help.median / nodeBare.median).toFixed(2)}x node -e 0 (target <= 1.5x)`));
console.log(row('validate examples/fleet.yaml', validate, 'target < 300 ms'));
console.log(row('build examples/fleet.yaml', build, 'target < 300 ms; 15 files'));
console.log(row(`build, ${groups} groups`, big, `${groups + 1} profiles + ${2 * (groups + 1)} plists; ${(big.median / (3 * (groups + 1))).toFixed(3)} ms per file`));
console.log(row(`build, ${userCount} users`, users, `${userCount} per-user profiles + 5 group profiles; ${(users.median / userCount).toFixed(3)} ms per user`));
rmSync(work, { recursive: true, force: true });
