import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import type { Finding } from '../src/audit/audit.js';
import { failsAt, findingsFormatters, summarize, writeFindings, type AuditReport } from '../src/format/findings.js';
import { escapeBeyondC0 } from '../src/format/terminal.js';

const finding = (i: number, extra: Partial<Finding> = {}): Finding => ({
  code: 'audit/value-mismatch', severity: 'error', message: `DisallowSave is false; the policy forces true (${i})`,
  file: `pulls/MAC-${i}/Users/u${i}/Library/Preferences/Microsoft/com.microsoft.Messenger.plist`, host: `MAC-${i}`, user: `u${i}`,
  group: null, domain: 'com.microsoft.Messenger', key: 'DisallowSave', expected: 'true', actual: 'false', line: 7, column: 1,
  policy: { file: 'fleet.yaml', line: 4, column: 5 }, ...extra,
});

const report = (findings: Finding[], fleet = 'fleet.yaml'): AuditReport => ({
  summary: summarize(findings.length, findings, findings.length, findings.length), findings,
  audited: findings.map((f) => ({ file: f.file, group: null, domain: 'com.microsoft.Messenger' })), version: '0.1.0', fleet,
});

test('json and sarif, written a finding at a time, are JSON.stringify\'s layout of the whole, C1 and bidi characters escaped', async () => {
  const odd = finding(2, { message: 'key \u009b31m and \u202egnp.exe', host: 'MAC-\u0085', actual: '"\u001b[2K"' });
  for (const findings of [[], [finding(1)], [finding(1), odd, finding(3, { line: undefined, offset: 40 })]]) {
    for (const format of ['json', 'sarif'] as const) {
      const r = report(findings, 'fleet\u202e.yaml');
      let text = '';
      await writeFindings((piece) => void (text += piece), format, r, { color: false });
      assert.equal(text, `${escapeBeyondC0(JSON.stringify(JSON.parse(text), null, 2))}\n`, `${format}, ${findings.length} findings`);
      assert.doesNotMatch(text, /[\u0080-\u009f\u202e]/);
      assert.equal(text, [...findingsFormatters[format](r, { color: false })].join(''));
    }
  }
});

test('sarif: each location is a URI that resolves back to the file, with its line and column, or its byte offset', async () => {
  const files = ['pulls/Mac #1/Users/zoë/a%b?.plist', 'C:/MAC-3/x.plist', '/srv/pull/MAC-2/x.plist', 'pulls/MAC-5/x.plist'];
  const findings = files.map((file, i) => finding(i, { file, ...(i === 3 && { line: undefined, column: undefined, offset: 40 }) }));
  let text = '';
  await writeFindings((piece) => void (text += piece), 'sarif', report(findings), { color: false });
  type Location = { physicalLocation: { artifactLocation: { uri: string }; region?: Record<string, number> } };
  const locations = (JSON.parse(text) as { runs: { results: { locations: Location[] }[] }[] }).runs[0]!.results.map((r) => r.locations[0]!.physicalLocation);
  assert.deepEqual(locations.map((l) => l.artifactLocation.uri), ['pulls/Mac%20%231/Users/zo%C3%AB/a%25b%3F.plist', 'C%3A/MAC-3/x.plist', 'file:///srv/pull/MAC-2/x.plist', 'pulls/MAC-5/x.plist']);
  for (const [i, { artifactLocation }] of locations.entries()) {
    const resolved = new URL(artifactLocation.uri, 'file:///work/');
    assert.equal(resolved.search + resolved.hash, '', artifactLocation.uri);
    assert.equal(decodeURIComponent(resolved.pathname), files[i]!.startsWith('/') ? files[i] : `/work/${files[i]}`);
  }
  assert.deepEqual(locations.map((l) => l.region), [{ startLine: 7, startColumn: 1 }, { startLine: 7, startColumn: 1 }, { startLine: 7, startColumn: 1 }, { byteOffset: 40 }]);
});

test('a report is handed to stdout in writes of about 64 KB, each awaited, never as one string', async () => {
  const findings = Array.from({ length: 6000 }, (_, i) => finding(i));
  for (const format of ['stylish', 'json', 'sarif', 'junit', 'csv'] as const) {
    const writes: number[] = [];
    let waited = 0;
    await writeFindings((piece) => {
      writes.push(piece.length);
      return new Promise((resolve) => setImmediate(() => resolve(void waited++)));
    }, format, report(findings), { color: false });
    assert.ok(writes.length > 10, `${format}: ${writes.length} writes`);
    assert.ok(Math.max(...writes) < (1 << 16) + 4096, `${format}: the largest write is ${Math.max(...writes)} characters`);
    assert.equal(waited, writes.length, 'each write waited for');
  }
});

test('the html page lists the first 10,000 findings and says how many it left out; its counts and charts count them all', async () => {
  const { html, HTML_ROWS } = await import('../src/format/html.js');
  const findings = Array.from({ length: HTML_ROWS + 5 }, (_, i) => finding(i)).sort((a, b) => (a.file < b.file ? -1 : 1));
  const compliant = ['pulls/ZZ-1/com.microsoft.Messenger.plist', 'pulls/ZZ-2/com.microsoft.Messenger.plist'];
  const r = { ...report(findings), audited: [...findings.map((f) => ({ file: f.file, group: null, domain: 'com.microsoft.Messenger' })), ...compliant.map((file) => ({ file, group: null, domain: 'com.microsoft.Messenger' }))] };
  const page = html(r);
  assert.equal(page.match(/<tr data-severity=/g)?.length, HTML_ROWS);
  assert.match(page, /<span id="shown">10000<\/span> of 10000\)/);
  assert.match(page, /lists the first 10000 of the 10005 findings, in path order/);
  assert.match(page, /id="count-error">10005</);
  assert.match(page, /0% \(2\/10007\)/);
  // The rows listed are the first in path order.
  assert.ok(page.includes(`${findings[HTML_ROWS - 1]!.file}:7<`));
  assert.ok(!page.includes(`${findings[HTML_ROWS]!.file}:7<`));
  // A report that fits says nothing of the kind.
  assert.doesNotMatch(html(report(findings.slice(0, 3))), /id="cut"/);
});

test('the html page shows control and bidirectional characters of names and values as escapes, as a terminal does', async () => {
  const { html } = await import('../src/format/html.js');
  const odd = finding(1, { host: 'MAC-\u202eexe.gnp', user: 'u\u001b[2K', key: 'Disallow\u0085Save', actual: '"\u200f"', file: 'pulls/MAC-\u202e/x.plist' });
  const page = html(report([odd], 'fleet\u2066.yaml'));
  assert.doesNotMatch(page, /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
  for (const shown of ['MAC-\\u202eexe.gnp', 'u\\u001b[2K', 'Disallow\\u0085Save', 'pulls/MAC-\\u202e/x.plist:7', 'fleet\\u2066.yaml']) assert.ok(page.includes(shown), shown);
});

test('junit: a file name or message with tabs, newlines, CRs and controls comes out of an XML parser as written (controls as U+FFFD)', () => {
  const odd = finding(1, { file: 'pulls/MAC\t1\r\n/x\u001b.plist', message: 'line one\r\nline\ttwo \u0001' });
  const text = [...findingsFormatters.junit(report([odd]), { color: false })].join('');
  const parsed = JSON.parse(execFileSync('python3', ['-c', 'import json,sys,xml.etree.ElementTree as E; r=E.fromstring(sys.stdin.buffer.read()); c=next(r.iter("testcase")); f=c.find("failure"); print(json.dumps([c.get("name"), f.get("message"), f.text]))'], { input: text }).toString()) as string[];
  assert.deepEqual(parsed, ['pulls/MAC\t1\r\n/x\ufffd.plist', 'line one\r\nline\ttwo \ufffd', 'audit/value-mismatch: line one\r\nline\ttwo \ufffd\nexpected: true\nactual: false']);
});

test('csv: Python\'s csv module reads every cell back as written, but cells a spreadsheet would run as a formula, which start with \'', () => {
  const odd = finding(1, { message: 'a "quoted", two-line\r\nmessage', host: '=HYPERLINK("http://x")', user: '@SUM(A1)', group: '+1', key: '-1', actual: '\tx', expected: '\rx' });
  const text = [...findingsFormatters.csv(report([odd]), { color: false })].join('');
  const rows = JSON.parse(execFileSync('python3', ['-c', 'import csv,io,json,sys; print(json.dumps(list(csv.reader(io.StringIO(sys.stdin.read(), newline="")))))'], { input: text }).toString()) as string[][];
  assert.equal(rows.length, 2);
  const cells = Object.fromEntries(rows[0]!.map((column, i) => [column, rows[1]![i]]));
  assert.deepEqual(cells, {
    file: odd.file, host: '\'=HYPERLINK("http://x")', user: '\'@SUM(A1)', group: '\'+1', domain: 'com.microsoft.Messenger', key: '\'-1',
    code: 'audit/value-mismatch', severity: 'error', expected: '\'\rx', actual: '\'\tx', message: 'a "quoted", two-line\r\nmessage', line: '7',
  });
});

test('--fail-on: the exit is 1 for findings at or above the severity asked for', () => {
  const summary = (errors: number, warnings: number, infos: number) => ({ files: 1, unreadable: 0, hosts: 1, users: 1, errors, warnings, infos, exempted: 0 });
  const table: [ReturnType<typeof summary>, boolean, boolean, boolean][] = [
    [summary(0, 0, 0), false, false, false],
    [summary(0, 0, 1), false, false, true],
    [summary(0, 1, 0), false, true, true],
    [summary(1, 0, 0), true, true, true],
  ];
  for (const [s, error, warning, info] of table) assert.deepEqual([failsAt(s, 'error'), failsAt(s, 'warning'), failsAt(s, 'info')], [error, warning, info], JSON.stringify(s));
});
