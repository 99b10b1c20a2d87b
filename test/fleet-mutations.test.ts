// Property: the example fleet.yaml, edited the way people slip (a value of the wrong kind, a line lost or
// doubled, a key misspelt, an indent off), goes through the whole build in this process. Byte mutations
// (plist-properties) mostly stop at YAML syntax; these reach the schema, the rules, the directory, the
// install point, the compiler and the audit. Each run must end in a build or in located errors, never an exception,
// and an error must leave no output folder.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { audit } from '../src/cli/audit.js';
import { build } from '../src/cli/commands.js';
import type { Io } from '../src/cli/io.js';
import { CODES } from '../src/diagnostics/diagnostic.js';
import { exampleCopy, ROOT } from './helpers/helpers.js';

const VALUES = [
  'true', 'false', '0', '1', '-1', '65536', '1.5', '.nan', '~', '""', '"x"', '[]', '{}', '[1, 2]', '0600', '0x10',
  '"{{nope}}"', '"{{user}}"', '"{{upn}}@x"', '"a\\u0001b"', 'tls', 'tcp', 'manual', 'auto', 'Engineering',
  '9223372036854775808', '{ value: 1 }', '{ manage: forced }', '{ value: true, manage: sometimes }', '{ value: 5, manage: often }',
  'x'.repeat(300), '"../../etc/passwd"', '"/"', 'vendor', 'tar.gz', 'smb://', 'com.example', '&a 1', '*a',
];

type Edit = { line: number; kind: 'value' | 'delete' | 'double' | 'typo' | 'indent' | 'outdent'; pick: number };

function apply(text: string, edits: readonly Edit[]): string {
  const lines = text.split('\n');
  for (const { line, kind, pick } of edits) {
    const at = line % lines.length;
    const current = lines[at]!;
    const pair = /^(\s*-?\s*[A-Za-z][\w.]*:)(\s.*)?$/.exec(current);
    switch (kind) {
      case 'value': if (pair) lines[at] = `${pair[1]} ${VALUES[pick % VALUES.length]}`; break;
      case 'delete': lines.splice(at, 1); break;
      case 'double': lines.splice(at, 0, current); break;
      case 'typo': if (pair) lines[at] = current.replace(/[A-Za-z]/, (c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())); break;
      case 'indent': lines[at] = `  ${current}`; break;
      case 'outdent': lines[at] = current.replace(/^ {2}/, ''); break;
    }
  }
  return lines.join('\n');
}

test('property: the example, edited as people slip, builds or gives located errors, never an exception or a partial output', { timeout: 300_000 }, async () => {
  const dir = join(exampleCopy(), '..');
  const original = readFileSync(join(dir, 'fleet.yaml'), 'utf8');
  const codes = new Set<string>(Object.keys(CODES));
  let built = 0;
  let refused = 0;
  const edit = fc.record({
    line: fc.nat(),
    kind: fc.constantFrom('value', 'value', 'value', 'delete', 'double', 'typo', 'indent', 'outdent'),
    pick: fc.nat(),
  }) as fc.Arbitrary<Edit>;
  await fc.assert(fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 3 }), fc.constantFrom('xml', 'binary'), async (edits, plistFormat) => {
    const text = apply(original, edits);
    writeFileSync(join(dir, 'fleet.yaml'), text);
    const output = join(dir, `build-${built + refused}`);
    let stdout = '';
    let stderr = '';
    const io: Io = {
      stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), cwd: dir, env: { NO_COLOR: '1' },
      stdoutIsTTY: false, stderrIsTTY: false, now: () => new Date('2026-06-01T00:00:00Z'),
    };
    const code = await build(io, 'fleet.yaml', { output, plistFormat, failOn: 'error' });
    const report = `${text}\n---\n${stdout}${stderr}`;
    assert.ok(code === 0 || code === 2, report);
    assert.doesNotMatch(stdout + stderr, /internal error|\n\s+at |undefined|\[object /, report);
    if (code === 0) {
      built++;
      assert.ok(existsSync(join(output, 'manifest.json')), report);
      // What builds is also a policy to audit against: the example's pulls, against it, in every format.
      for (const format of ['json', 'stylish', 'sarif'] as const) {
        stdout = '';
        const audited = await audit(io, 'fleet.yaml', [join(ROOT, 'examples', 'pulled')], { format, failOn: 'error' });
        assert.ok(audited === 0 || audited === 1, `${format}\n${report}\n${stdout}`);
        assert.doesNotMatch(stdout + stderr, /internal error|\n\s+at |undefined|\[object /, `${format}\n${report}`);
        if (format !== 'stylish') JSON.parse(stdout);
      }
      return;
    }
    refused++;
    assert.equal(existsSync(output), false, `no partial output\n${report}`);
    const errors = [...(stdout + stderr).matchAll(/^(\S+?)(?::(\d+):(\d+))?\s+error\s+.*\s(\S+\/\S+)$/gm)];
    assert.ok(errors.length > 0, `an error is reported\n${report}`);
    for (const [, file, line, , errorCode] of errors) {
      assert.ok(codes.has(errorCode!), `${errorCode} is a documented code\n${report}`);
      if (file === 'fleet.yaml' && !errorCode!.startsWith('io/')) assert.ok(line, `an error in fleet.yaml has its line and column\n${report}`);
    }
  }), { numRuns: 200 });
  // Both ends are reached: the edits are neither all harmless nor all fatal.
  assert.ok(built >= 10 && refused >= 50, `built ${built}, refused ${refused}`);
});
