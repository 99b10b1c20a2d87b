// Property: pulls come in every shape scripts, MDM inventories and backups leave: folders nested oddly, names
// with spaces, accents, '#' and other capitals, plists valid, off the policy, typed as `defaults write`
// leaves them, empty, cut short or not plists at all, and beside them links (to a loop, outside the pull),
// FIFOs and folders named like plists. Each audit, in every format, must report or refuse with a reason,
// never end in an exception; and what the json report says must be what the tree holds.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { audit } from '../src/cli/audit.js';
import type { Io } from '../src/cli/io.js';
import { writeBinaryPlist } from '../src/plist/write-binary.js';
import { writeXmlPlist } from '../src/plist/write-xml.js';
import { exampleCopy, ROOT, tempDir } from './helpers/helpers.js';

const SEGMENTS = ['MAC-1', 'MAC-2', 'Mac #3', 'Users', 'users', 'jdoe', 'JDoe', 'asmith', 'José', 'nobody', 'Library', 'Preferences', 'Microsoft', 'ByHost', 'Managed Preferences', 'x y', '.hidden'];
const NAMES = ['com.microsoft.Messenger.plist', 'com.microsoft.MessengerDaemon.plist', 'com.microsoft.messenger.plist', 'com.apple.iChat.plist', 'other.plist', '.plist', 'notes.txt', 'com.microsoft.Messenger.plist.bak'];
const UI = { DisallowSave: true, HideTimeStamp: false };
const DAEMON = { RTCConfigurationMode: 1, RTCServerAddress: 'lcs01.corp.example.com', RTCTransport: 4, PortRangeEnabled: 1, PortRangeMinSIPDynamicPort: 50000, PortRangeMaxSIPDynamicPort: 50019 };
const CONTENTS = ['xml', 'binary', 'deviant', 'stringly', 'unknown-key', 'empty', 'garbage', 'cut', 'link-loop', 'link-out', 'fifo', 'folder'] as const;
type Content = (typeof CONTENTS)[number];

function bytesOf(content: Content, name: string): Buffer | undefined {
  const values = name.toLowerCase().includes('daemon') ? DAEMON : UI;
  switch (content) {
    case 'xml': return writeXmlPlist(values);
    case 'binary': return writeBinaryPlist(values);
    case 'deviant': return writeXmlPlist({ ...values, DisallowSave: false, RTCTransport: 1 });
    case 'stringly': return writeXmlPlist({ ...values, RTCTransport: '4', DisallowSave: 'YES' });
    case 'unknown-key': return writeBinaryPlist({ ...values, DisalowSave: true });
    case 'empty': return Buffer.alloc(0);
    case 'garbage': return Buffer.from('{"DisallowSave": true}');
    case 'cut': return writeBinaryPlist(values).subarray(0, 30);
    default: return undefined;
  }
}

/** Makes the entries that fit (a file where a folder is wanted, or the reverse, is left out); the plists made. */
function makeTree(root: string, entries: readonly { path: string[]; name: string; content: Content }[]): void {
  for (const { path, name, content } of entries) {
    const dir = join(root, ...path);
    const file = join(dir, name);
    try {
      mkdirSync(dir, { recursive: true });
      const bytes = bytesOf(content, name);
      if (bytes) writeFileSync(file, bytes, { flag: 'wx' });
      else if (content === 'link-loop') symlinkSync(file, file);
      else if (content === 'link-out') symlinkSync(join(ROOT, 'examples', 'pulled', 'MAC-0101', 'Users', 'jdoe', 'Library', 'Preferences', 'Microsoft', 'com.microsoft.Messenger.plist'), file);
      else if (content === 'fifo') execFileSync('mkfifo', [file]);
      else mkdirSync(file);
    } catch {
      // The path is taken, by a file or a folder of another entry.
    }
  }
}

const validateFindings = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(JSON.parse(readFileSync(join(ROOT, 'schemas/findings.schema.json'), 'utf8')) as object);
const SLIP = /internal error|\n\s+at |undefined|\[object /;

type Report = { summary: { errors: number; warnings: number; infos: number; files: number }; findings: { file: string; code: string; host: string | null; user: string | null; severity: string }[] };

test('property: pulls of every shape are audited or refused with a reason, in every format, never with an exception', { timeout: 300_000 }, async () => {
  const fleetDir = join(exampleCopy(), '..');
  const entry = fc.record({
    path: fc.array(fc.constantFrom(...SEGMENTS), { maxLength: 7 }),
    name: fc.constantFrom(...NAMES),
    content: fc.constantFrom(...CONTENTS),
  });
  let run = 0;
  let findings = 0;
  await fc.assert(fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 12 }), async (entries) => {
    const dir = join(tempDir(), 'pull');
    mkdirSync(dir);
    makeTree(dir, entries);
    run++;
    const outputs: Record<string, string> = {};
    for (const format of ['json', 'stylish', 'csv', 'junit', 'sarif', 'html', 'json'] as const) {
      let out = '';
      let err = '';
      const io: Io = { stdout: (t) => void (out += t), stderr: (t) => void (err += t), cwd: fleetDir, env: { NO_COLOR: '1' }, stdoutIsTTY: false, stderrIsTTY: false, now: () => new Date('2026-06-01T00:00:00Z') };
      const code = await audit(io, 'fleet.yaml', [dir], { format, failOn: 'error' });
      const context = `${format}: ${JSON.stringify(entries)}\n${out.slice(0, 4000)}${err}`;
      assert.ok(code === 0 || code === 1, context);
      assert.doesNotMatch(err, SLIP, context);
      if (format !== 'html') assert.doesNotMatch(out, SLIP, context);
      if (format === 'json' && outputs.json) assert.equal(out, outputs.json, `the same pull, the same report\n${context}`);
      outputs[format] = out;
      if (format !== 'json') continue;
      const report = JSON.parse(out) as Report;
      assert.ok(validateFindings(report), `${JSON.stringify(validateFindings.errors)}\n${context}`);
      assert.equal(code, report.summary.errors > 0 ? 1 : 0, context);
      for (const f of report.findings) assert.ok(f.file.startsWith(dir), `a finding names a file of the pull: ${f.file}\n${context}`);
      findings += report.findings.length;
    }
    // Every format carries the same findings.
    const { summary, findings: listed } = JSON.parse(outputs.json!) as Report;
    const context = `${JSON.stringify(entries)}\n${outputs.json}`;
    assert.equal((JSON.parse(outputs.sarif!) as { runs: { results: unknown[] }[] }).runs[0]!.results.length, listed.length, context);
    assert.equal(outputs.csv!.trimEnd().split('\n').length - 1, listed.length, context);
    const total = summary.errors + summary.warnings + summary.infos;
    assert.match(outputs.stylish!, new RegExp(`^${total} findings? \\(${summary.errors} errors?, ${summary.warnings} warnings?, ${summary.infos} infos?\\)`, 'm'), context);
    assert.equal([...outputs.junit!.matchAll(/<failure /g)].length, listed.filter((f) => f.severity === 'error').length, context);
  }), { numRuns: Number(process.env.RUNS ?? 120) });
  assert.ok(findings > run, `${findings} findings in ${run} pulls`);
});
