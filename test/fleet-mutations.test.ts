// Property: the example's fleet.yaml and users.csv, edited the way people slip (a value of the wrong kind, a line
// added, lost or doubled, a key's capitals changed, an indent off, a cell or a row gone wrong), go through the
// whole build in this process. Byte mutations (plist-properties) mostly stop at YAML syntax; these reach the
// schema, the rules, the directory, the install point, the compiler and the audit. Each run must end in a
// build or in located errors, never an exception, and an error must leave no output folder.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { audit } from '../src/cli/audit.js';
import { build } from '../src/cli/commands.js';
import type { Io } from '../src/cli/io.js';
import { CODES } from '../src/diagnostics/diagnostic.js';
import { exampleCopy, ROOT } from './helpers/helpers.js';
import { makePki } from './helpers/pki.js';

const PKI_FILES = ['root.pem', 'int.pem', 'leaf.pem', 'leaf.key', 'enc.pem', 'enc.key', 'other.pem', 'ecleaf.pem', 'ecleaf.key'];

const VALUES = [
  'true', 'false', '0', '1', '-1', '65536', '1.5', '.nan', '~', '""', '"x"', '[]', '{}', '[1, 2]', '0600', '0x10',
  '"{{nope}}"', '"{{user}}"', '"{{upn}}@x"', '"a\\u0001b"', 'tls', 'tcp', 'manual', 'auto', 'Engineering',
  '9223372036854775808', '{ value: 1 }', '{ manage: forced }', '{ value: true, manage: sometimes }', '{ value: 5, manage: often }',
  '!!set { a }', '!!binary aGVsbG8=', '!!timestamp 2001-12-14', '!!omap [ a: 1 ]', 'x'.repeat(300), '"../../etc/passwd"', '"/"', 'vendor', 'tar.gz', 'smb://', 'com.example', '&a 1', '*a',
  ...PKI_FILES, '[leaf.pem, int.pem]', '[]', 'users.csv', 'fleet.yaml', '{ env: NOPE }', '{ file: leaf.key }',
];

/** Lines people add: a key, a section, an anchor or a merge, a group, a domain; each at the indent it meets. */
const LINES = [
  'Nobody: {}', 'com.apple.iChat: { AutoLogin: true }', 'com.microsoft.Messenger: { DisallowSave: false }', 'DisallowSave: true',
  'RTCTransport: tcp', 'UserLogonName: someone', 'EnableKerberosLogin: true', 'PortRangeEnabled: 0', 'base: &x { DisallowSave: true }', '<<: *x',
  'trust: [{ file: root.pem }]', 'signing: { pkcs12: leaf.key }', 'installPoint: ~', 'groups: ~', 'accounts: []', 'directory: { file: users.csv }',
  '- { type: aim, host: login.oscar.aol.com, user: "{{user}}" }', '- { type: jabber, host: ichat.example.com, authentication: password, password: { env: NOPE } }',
  'description: "Déjà vu ✓"', 'preferences: {}', '? [a]', '~: 1', '"1": x',
];

type Edit = { line: number; kind: 'value' | 'delete' | 'double' | 'typo' | 'indent' | 'outdent' | 'insert'; pick: number };

/** Applies the edits to the lines from `from` on. */
function apply(text: string, edits: readonly Edit[], from = 0): string {
  const lines = text.split('\n');
  for (const { line, kind, pick } of edits) {
    const at = Math.min(from + (line % Math.max(1, lines.length - from)), lines.length - 1);
    const current = lines[at]!;
    const pair = /^(\s*-?\s*[A-Za-z][\w.]*:)(\s.*)?$/.exec(current);
    switch (kind) {
      case 'value': if (pair) lines[at] = `${pair[1]} ${VALUES[pick % VALUES.length]}`; break;
      case 'delete': lines.splice(at, 1); break;
      case 'double': lines.splice(at, 0, current); break;
      case 'typo': if (pair) lines[at] = current.replace(/[A-Za-z]/, (c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())); break;
      case 'indent': lines[at] = `  ${current}`; break;
      case 'outdent': lines[at] = current.replace(/^ {2}/, ''); break;
      case 'insert': lines.splice(at, 0, `${/^\s*/.exec(current)![0]}${LINES[pick % LINES.length]}`); break;
    }
  }
  return lines.join('\n');
}

const CELLS = [
  '', ' ', 'jdoe', 'JDOE', 'Jdoe', '../x', 'a/b', 'con', 'x.', '"a ""b"""', '"open', 'a"b', 'Jos\u00e9', 'Jose\u0301', '\u0001',
  'x'.repeat(300), 'Engineering', 'engineering', 'Nobody', 'someone', 'someone@CORP.EXAMPLE.COM', '?', '"a,b"', '\ufeffjdoe',
];

type CsvEdit = { row: number; column: number; kind: 'cell' | 'delete' | 'double' | 'extra' | 'crlf'; pick: number };

function applyCsv(text: string, edits: readonly CsvEdit[]): string {
  let rows = text.split('\n');
  for (const { row, column, kind, pick } of edits) {
    const at = row % rows.length;
    const cells = rows[at]!.split(',');
    switch (kind) {
      case 'cell': cells[column % cells.length] = CELLS[pick % CELLS.length]!; rows[at] = cells.join(','); break;
      case 'delete': rows.splice(at, 1); break;
      case 'double': rows.splice(at, 0, rows[at]!); break;
      case 'extra': rows[at] = `${rows[at]},extra`; break;
      case 'crlf': rows = rows.map((r) => (r.endsWith('\r') ? r : `${r}\r`)); break;
    }
  }
  return rows.join('\n');
}

// A JavaScript undefined leaked into a message; {{undefined}} is a word the messages name as such.
const SLIP = /internal error|\n\s+at |(?<!\{\{)undefined|\[object /;
const validateFindings = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(JSON.parse(readFileSync(join(ROOT, 'schemas/findings.schema.json'), 'utf8')) as object);

/**
 * Builds the example folder as it now is, into a new folder, and checks the outcome: a build (which the
 * example's pulls are then audited against, in three formats) or errors with their place and no output.
 */
async function buildChecked(dir: string, run: number, plistFormat: 'xml' | 'binary', edited: string, now = new Date('2026-06-01T00:00:00Z')): Promise<boolean> {
  const output = join(dir, `build-${run}`);
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), cwd: dir, env: { NO_COLOR: '1' },
    stdoutIsTTY: false, stderrIsTTY: false, now: () => now,
  };
  const code = await build(io, 'fleet.yaml', { output, plistFormat, failOn: 'error' });
  const report = `${edited}\n---\n${stdout}${stderr}`;
  assert.ok(code === 0 || code === 2, report);
  assert.doesNotMatch(stdout + stderr, SLIP, report);
  if (code === 0) {
    assert.ok(existsSync(join(output, 'manifest.json')), report);
    for (const format of ['json', 'stylish', 'sarif'] as const) {
      stdout = '';
      const audited = await audit(io, 'fleet.yaml', [join(ROOT, 'examples', 'pulled')], { format, failOn: 'error' });
      assert.ok(audited === 0 || audited === 1, `${format}\n${report}\n${stdout}`);
      assert.doesNotMatch(stdout + stderr, SLIP, `${format}\n${report}`);
      if (format === 'json') assert.ok(validateFindings(JSON.parse(stdout)), `${JSON.stringify(validateFindings.errors)}\n${report}`);
      if (format === 'sarif') assert.equal((JSON.parse(stdout) as { version: string }).version, '2.1.0');
    }
    return true;
  }
  assert.equal(existsSync(output), false, `no partial output\n${report}`);
  const errors = [...(stdout + stderr).matchAll(/^(\S+?)(?::(\d+):(\d+))?\s+error\s+.*\s(\S+\/\S+)$/gm)];
  assert.ok(errors.length > 0, `an error is reported\n${report}`);
  for (const [, file, line, , errorCode] of errors) {
    assert.ok(errorCode! in CODES, `${errorCode} is a documented code\n${report}`);
    if ((file === 'fleet.yaml' || file === 'users.csv') && !errorCode!.startsWith('io/')) assert.ok(line, `an error in ${file} has its line and column\n${report}`);
  }
  return false;
}

const format = fc.constantFrom<'xml' | 'binary'>('xml', 'binary');

const fleetEdit = fc.record({
  line: fc.nat(),
  kind: fc.constantFrom('value', 'value', 'value', 'insert', 'insert', 'delete', 'double', 'typo', 'indent', 'outdent'),
  pick: fc.nat(),
}) as fc.Arbitrary<Edit>;

/** Builds `runs` edits of one of the example's files; says how many built, and how many of those were signed. */
async function editedBuilds<E>(dir: string, file: string, edits: fc.Arbitrary<E>, edited: (edits: E[]) => string, runs: number, now?: Date): Promise<{ run: number; built: number; signed: number }> {
  const count = { run: 0, built: 0, signed: 0 };
  await fc.assert(fc.asyncProperty(fc.array(edits, { minLength: 1, maxLength: 3 }), format, async (chosen, plistFormat) => {
    const text = edited(chosen);
    writeFileSync(join(dir, file), text);
    const run = count.run++;
    if (!(await buildChecked(dir, run, plistFormat, text, now))) return;
    count.built++;
    if (readFileSync(join(dir, `build-${run}`, 'profiles', 'base.mobileconfig'))[0] === 0x30) count.signed++;
  }), { numRuns: runs });
  return count;
}

test('property: the example\'s fleet.yaml, edited as people slip, builds or gives located errors, never an exception or a partial output', { timeout: 300_000 }, async () => {
  const dir = join(exampleCopy(), '..');
  const original = readFileSync(join(dir, 'fleet.yaml'), 'utf8');
  const { run, built } = await editedBuilds(dir, 'fleet.yaml', fleetEdit, (edits) => apply(original, edits), 200);
  // Both ends are reached: the edits are neither all harmless nor all fatal.
  assert.ok(built >= 10 && run - built >= 50, `built ${built} of ${run}`);
});

test('property: the example with trust anchors and a signing identity, those sections edited as people slip, builds signed or gives located errors', { timeout: 300_000 }, async () => {
  const dir = join(exampleCopy(), '..');
  const pki = makePki();
  for (const name of PKI_FILES) copyFileSync(pki.path(name), join(dir, name));
  const example = readFileSync(join(dir, 'fleet.yaml'), 'utf8');
  const original = `${example}\ntrust:\n  - file: root.pem\n  - file: int.pem\nsigning:\n  certificate: leaf.pem\n  key: leaf.key\n  chain: [int.pem]\n`;
  const from = example.split('\n').length;
  const { run, built, signed } = await editedBuilds(dir, 'fleet.yaml', fleetEdit, (edits) => apply(original, edits, from), 150, new Date());
  assert.ok(signed >= 10 && run - built >= 30, `built ${built} of ${run}, ${signed} signed`);
});

test('property: the example\'s users.csv, edited as people slip, builds or gives errors at their line, never an exception or a partial output', { timeout: 300_000 }, async () => {
  const dir = join(exampleCopy(), '..');
  const original = readFileSync(join(dir, 'users.csv'), 'utf8');
  const edit = fc.record({
    row: fc.nat(),
    column: fc.nat(),
    kind: fc.constantFrom('cell', 'cell', 'cell', 'delete', 'double', 'extra', 'crlf'),
    pick: fc.nat(),
  }) as fc.Arbitrary<CsvEdit>;
  const { run, built } = await editedBuilds(dir, 'users.csv', edit, (edits) => applyCsv(original, edits), 200);
  assert.ok(built >= 10 && run - built >= 50, `built ${built} of ${run}`);
});
