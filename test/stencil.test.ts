import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { loadCatalog } from '../src/catalog/catalog.js';
import type { Io } from '../src/cli/io.js';
import { loadPolicy } from '../src/cli/load.js';
import { manifestEntryText, planShared, userArtifact, userProfile, userStencil, type BuildInput } from '../src/compile/plan.js';
import { HEADER, tempDir, writeFleet } from './helpers/helpers.js';

// A user's profile is filled into a stencil recorded once per group (src/compile/stencil.ts). It must be
// exactly the profile the general code makes, for any value a directory can hold.

const io = { cwd: process.cwd(), env: { IM_PASSWORD: 'pa&ss<word>' }, stdout: () => undefined, stderr: () => undefined, stdoutIsTTY: false, stderrIsTTY: false, now: () => new Date() } as Io;

async function inputFor(csv: string, policy: string): Promise<BuildInput> {
  const dir = tempDir();
  writeFileSync(join(dir, 'users.csv'), csv);
  const fleet = writeFleet(`${HEADER}directory: { file: users.csv, columns: { user: name, email: mail, upn: upn, group: dept } }\n${policy}`, dir);
  const loaded = await loadPolicy(io, fleet);
  assert.deepEqual(loaded.diagnostics.filter((d) => d.severity === 'error'), []);
  return { fleet: loaded.fleet!, catalog: loadCatalog(), fleetBytes: loaded.bytes!, users: loaded.users!, secrets: new Map([[1, 'pa&ss<word>']]), plistFormat: 'xml', version: 'test' };
}

const POLICY = `preferences:
  com.microsoft.Messenger: { DisallowSave: true, HideTimeStamp: { value: false, manage: once } }
  com.microsoft.MessengerDaemon: { RTCServerAddress: lcs.example.com, UserLogonName: "{{upn}}", UserSIPID: { value: "sip:{{email}} ({{user}})", manage: often } }
accounts:
  - { type: jabber, host: ichat.example.com, authentication: kerberos, user: "{{user}}@example.com", description: "Chat for {{user}}" }
  - { type: aim, host: aim.example.com, authentication: password, password: { env: IM_PASSWORD } }
groups:
  Engineering: { preferences: { com.microsoft.Messenger: { DisallowSave: false } } }
  Sales: {}
`;

/** Compares every user's profile both ways; answers how many were filled into a stencil. */
async function compare(input: BuildInput): Promise<number> {
  let stenciled = 0;
  for (const target of (await planShared(input)).users) {
    const made = userArtifact(input, target);
    const general = userProfile(input, target);
    assert.equal(made.path, general.path);
    assert.equal(made.bytes.toString(), general.bytes.toString(), target.user.name);
    assert.equal(manifestEntryText(made.entry), manifestEntryText(general.entry));
    if (userStencil(input, target)) stenciled++;
  }
  return stenciled;
}

test('a profile filled into its group\'s stencil is byte for byte the one made without it', async () => {
  const cell = (minLength: number) => fc.string({ unit: fc.constantFrom('a', 'B', '7', '&', '<', '>', '"', "'", ' ', '.', '-', 'é', 'ß', '😀', '\u0301', '\uE000', '\uE001', '{', '}'), minLength, maxLength: 10 });
  const name = cell(1).filter((n) => n.trim() !== '');
  const row = fc.record({ name, mail: cell(1), upn: fc.tuple(cell(1), cell(0)).map(([a, b]) => `${a}@${b || 'REALM'}`), dept: fc.constantFrom('Engineering', 'Sales', 'Legal', '') });
  const quote = (text: string) => `"${text.replaceAll('"', '""')}"`;
  await fc.assert(fc.asyncProperty(fc.uniqueArray(row, { selector: (r) => r.name.normalize('NFD').toUpperCase().toLowerCase().normalize('NFD'), minLength: 1, maxLength: 30 }), async (rows) => {
    const csv = `name,mail,upn,dept\n${rows.map((r) => [r.name, r.mail, r.upn, r.dept].map(quote).join(',')).join('\n')}\n`;
    const input = await inputFor(csv, POLICY);
    const stenciled = await compare(input);
    assert.equal(stenciled, rows.length, 'every user was filled into a stencil');
  }), { numRuns: 40 });
});

test('a group with a templated once value, or a slot character in fleet.yaml, is made without a stencil and stays right', async () => {
  const csv = 'name,mail,upn,dept\nalice,a@example.com,alice@CORP,Sales\nbob,b@example.com,bob@CORP,Engineering\ncarol,c@example.com,carol@CORP,\n';
  const once = await inputFor(csv, POLICY.replace('UserLogonName: "{{upn}}"', 'UserLogonName: { value: "{{upn}}", manage: once }'));
  assert.equal(await compare(once), 0);
  const literal = await inputFor(csv, POLICY.replace('host: aim.example.com,', 'host: aim.example.com, description: "slot \uE000\uE001 here",'));
  assert.equal(await compare(literal), 0);
});
