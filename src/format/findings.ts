import type { Audited, Finding } from '../audit/audit.js';
import { CODES, type Severity } from '../diagnostics/diagnostic.js';
import { escapeBeyondC0, paint, printable } from './terminal.js';

export interface AuditSummary {
  files: number;
  unreadable: number;
  hosts: number;
  users: number;
  errors: number;
  warnings: number;
  infos: number;
  /** Findings left out because fleet.yaml exempts them. */
  exempted: number;
}

/**
 * A report. Its findings are in path order (each file's by line), and so is the list of files audited: both
 * are read in that order, and some formats read them twice, so they are iterables that can be read again
 * (arrays, or an audit's spool), never a generator.
 */
export interface AuditReport {
  summary: AuditSummary;
  findings: Iterable<Finding>;
  /** Every plist audited, for compliance rates. */
  audited: Iterable<Audited>;
  version: string;
  fleet: string;
  /** A report of `validate`: findings about fleet.yaml and its files, not about Macs. */
  validation?: boolean;
}

/**
 * A report as pieces of text, made one at a time as they are written: 300,000 findings as one JSON string
 * took 200 MB, and its copies on the way to stdout four times that.
 */
export type FindingsFormatter = (report: AuditReport, context: { color: boolean }) => Iterable<string>;

export function summarize(files: number, findings: Iterable<Finding>, hosts: number, users: number): AuditSummary {
  const summary = { files, unreadable: 0, hosts, users, errors: 0, warnings: 0, infos: 0, exempted: 0 };
  for (const f of findings) countFinding(summary, f);
  return summary;
}

const COUNTED = { error: 'errors', warning: 'warnings', info: 'infos' } as const;

/** Counts a finding in a summary, or with `by` -1 takes it out again. */
export function countFinding(summary: AuditSummary, f: Finding, by = 1): void {
  summary[COUNTED[f.severity]] += by;
  if (f.code === 'audit/unreadable') summary.unreadable += by;
}

export function findingCount(summary: AuditSummary): number {
  return summary.errors + summary.warnings + summary.infos;
}

/** Whether a report has findings at or above a severity: the audit's exit code. */
export function failsAt(summary: AuditSummary, threshold: Severity): boolean {
  return summary.errors + (threshold === 'error' ? 0 : summary.warnings + (threshold === 'info' ? summary.infos : 0)) > 0;
}

const COLORS: Record<Severity, number> = { error: 31, warning: 33, info: 36 };

/** For people: findings grouped by host and user, then a summary line. */
export const stylish: FindingsFormatter = function* ({ summary, findings }, { color }) {
  let heading = '';
  for (const f of findings) {
    const who = f.host === null && f.user === null
      ? '(no host or user in the path)'
      : `${f.host ?? '(no host)'} / ${f.user ?? '(no user)'}${f.group ? ` (${f.group})` : ''}`;
    if (who !== heading) {
      yield `${heading ? '\n' : ''}${paint(color, 1, printable(who))}\n`;
      heading = who;
    }
    const where = f.line !== undefined ? `${f.file}:${f.line}` : f.offset !== undefined ? `${f.file}@0x${f.offset.toString(16)}` : f.file;
    yield `  ${printable(where)}  ${paint(color, COLORS[f.severity], f.severity)}  ${printable(f.message)}  ${paint(color, 2, f.code)}\n`;
  }
  const n = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
  const total = findingCount(summary);
  yield `${total ? '\n' : ''}${n(total, 'finding')} (${n(summary.errors, 'error')}, ${n(summary.warnings, 'warning')}, ${n(summary.infos, 'info')}) in ${n(summary.files, 'plist')} from ${n(summary.hosts, 'host')} and ${n(summary.users, 'user')}${summary.unreadable ? `; ${summary.unreadable} unreadable` : ''}${summary.exempted ? `; ${summary.exempted} exempted by fleet.yaml` : ''}\n`;
};

/** The contract (schemas/findings.schema.json): every field present, null where it does not apply. */
export const json: FindingsFormatter = ({ summary, findings }) => jsonPieces({ summary, findings: LIST }, findings, (f) => ({
  file: f.file, host: f.host, user: f.user, group: f.group, domain: f.domain, key: f.key, code: f.code, severity: f.severity,
  expected: f.expected, actual: f.actual, message: f.message, line: f.line ?? null, offset: f.offset ?? null, policy: f.policy,
}));

/** Marks where in a report's frame its list goes. */
const LIST = ['\u0000list'];

/**
 * `jsonText` of `frame` with LIST in it replaced by the items, each made and stringified in turn: the same
 * bytes (JSON.stringify's two-space layout, C1 and bidirectional characters escaped) as the whole at once.
 */
function* jsonPieces<T>(frame: unknown, items: Iterable<T>, made: (item: T) => unknown): Iterable<string> {
  const text = escapeBeyondC0(JSON.stringify(frame, null, 2));
  const marker = JSON.stringify(LIST[0]);
  const at = text.indexOf(marker);
  const lineStart = text.lastIndexOf('\n', at);
  const indent = text.slice(lineStart + 1, at);
  let first = true;
  for (const item of items) {
    yield `${first ? text.slice(0, lineStart) : ','}\n${indent}${escapeBeyondC0(JSON.stringify(made(item), null, 2)).replaceAll('\n', `\n${indent}`)}`;
    first = false;
  }
  // An empty list is `[]`, as JSON.stringify writes it.
  yield first ? `${text.slice(0, text.lastIndexOf('[', at) + 1)}]${text.slice(text.indexOf(']', at) + 1)}\n` : `${text.slice(at + marker.length)}\n`;
}

const CSV_COLUMNS = ['file', 'host', 'user', 'group', 'domain', 'key', 'code', 'severity', 'expected', 'actual', 'message', 'line'] as const;

/** RFC 4180, with cells that a spreadsheet would run as a formula (=, +, -, @) prefixed with '. */
export const csv: FindingsFormatter = function* ({ findings }) {
  const cellOf = (value: unknown) => {
    let text = value === null || value === undefined ? '' : String(value);
    if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  yield `${CSV_COLUMNS.join(',')}\r\n`;
  for (const f of findings) yield `${CSV_COLUMNS.map((c) => cellOf(f[c])).join(',')}\r\n`;
};

/**
 * Text for XML content; `attribute` also keeps tabs and line breaks, which a parser turns into spaces in an
 * attribute. CR is a reference everywhere: a parser turns it into LF.
 */
export function xml(text: string, attribute = false): string {
  // Characters XML 1.0 cannot carry at all are replaced: a finding's text comes from untrusted files.
  const escaped = text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd').replace(/[\ud800-\udfff]/g, (c, i: number, s: string) => {
    const code = c.charCodeAt(0);
    const pair = code < 0xdc00 ? s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff : s.charCodeAt(i - 1) >= 0xd800 && s.charCodeAt(i - 1) <= 0xdbff;
    return pair ? c : '\ufffd';
  }).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
  return escaped.replace(attribute ? /[\t\n\r]/g : /\r/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Each file with its findings, in path order: every file audited, and the paths with findings that were
 * not audited as plists (an unlistable folder, a broken archive). Both lists are in path order, so they are
 * walked side by side, a file's findings held at a time.
 */
export function* byFile(audited: Iterable<Audited>, findings: Iterable<Finding>): Generator<{ file: string; audited: Audited | undefined; findings: Finding[] }> {
  const files = audited[Symbol.iterator]();
  const found = findings[Symbol.iterator]();
  let a = files.next();
  let f = found.next();
  while (!a.done || !f.done) {
    const file = a.done ? f.value!.file : f.done || a.value.file <= f.value.file ? a.value.file : f.value.file;
    const entry = !a.done && a.value.file === file ? a.value : undefined;
    while (!a.done && a.value.file === file) a = files.next();
    const list: Finding[] = [];
    for (; !f.done && f.value.file === file; f = found.next()) list.push(f.value);
    yield { file, audited: entry, findings: list };
  }
}

/** JUnit: one test case per checked file, failing with its error findings (the others as system-out). */
export const junit: FindingsFormatter = function* ({ summary, findings, audited }) {
  let tests = 0;
  let failing = 0;
  for (const { findings: list } of byFile(audited, findings)) {
    tests++;
    if (list.some((f) => f.severity === 'error')) failing++;
  }
  yield `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="mdmgen" tests="${tests}" failures="${failing}">\n  <testsuite name="mdmgen" tests="${tests}" failures="${failing}" errors="0" skipped="0">\n`;
  for (const { file, findings: list } of byFile(audited, findings)) {
    const errors = list.filter((f) => f.severity === 'error');
    const others = list.filter((f) => f.severity !== 'error');
    const body = [
      ...errors.map((f) => {
        const detail = [`${f.code}: ${f.message}`, ...(f.expected !== null ? [`expected: ${f.expected}`] : []), ...(f.actual !== null ? [`actual: ${f.actual}`] : [])];
        return `      <failure type="${xml(f.code, true)}" message="${xml(f.message, true)}">${xml(detail.join('\n'))}</failure>`;
      }),
      ...(others.length ? [`      <system-out>${xml(others.map((f) => `${f.severity} ${f.code}: ${f.message}`).join('\n'))}</system-out>`] : []),
    ];
    yield body.length === 0
      ? `    <testcase classname="mdmgen" name="${xml(file, true)}"/>\n`
      : `    <testcase classname="mdmgen" name="${xml(file, true)}">\n${body.join('\n')}\n    </testcase>\n`;
  }
  yield `${tests ? '' : '\n'}  </testsuite>\n</testsuites>\n<!-- ${summary.files} files checked -->\n`;
};

const SARIF_LEVEL: Record<Severity, string> = { error: 'error', warning: 'warning', info: 'note' };

/** SARIF 2.1.0, which code-scanning dashboards read. */
export const sarif: FindingsFormatter = ({ findings, version, fleet }) => {
  const found = new Set<string>();
  for (const f of findings) found.add(f.code);
  const codes = [...found].sort();
  const frame = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: 'mdmgen',
          version,
          informationUri: 'https://www.npmjs.com/package/mdmgen',
          rules: codes.map((id) => ({ id, shortDescription: { text: id }, defaultConfiguration: { level: SARIF_LEVEL[CODES[id as keyof typeof CODES] ?? 'warning'] } })),
        },
      },
      properties: { fleet },
      results: LIST,
    }],
  };
  return jsonPieces(frame, findings, (f) => ({
    ruleId: f.code,
    level: SARIF_LEVEL[f.severity],
    message: { text: f.message },
    locations: [{ physicalLocation: { artifactLocation: { uri: sarifUri(f.file) }, ...sarifRegion(f) } }],
    properties: { host: f.host, user: f.user, group: f.group, domain: f.domain, key: f.key, expected: f.expected, actual: f.actual, policy: f.policy },
  }));
};

/**
 * A path as a SARIF artifact URI (an RFC 3986 reference): each segment percent-encoded, so `Mac #1`, `?`,
 * `%` and a `C:` first segment (which a reader takes for a scheme) stay part of the path; an absolute path
 * as a file: URI. A backslash separates, as in the zips Windows makes.
 */
function sarifUri(file: string): string {
  const path = file.split('\\').join('/').split('/').map(encodeURIComponent).join('/');
  return path.startsWith('/') ? `file://${path}` : path;
}

/** Where in the file: line and column in text, the byte offset in a binary plist. */
function sarifRegion(f: Finding): { region?: { startLine?: number; startColumn?: number; byteOffset?: number } } {
  if (f.line !== undefined) return { region: { startLine: f.line, ...(f.column !== undefined && { startColumn: f.column }) } };
  return f.offset !== undefined ? { region: { byteOffset: f.offset } } : {};
}

/** Writes a report in a format, a piece at a time, in writes of about 64 KB. */
export async function writeFindings(write: (text: string) => void | Promise<void>, format: FindingsFormat, report: AuditReport, context: { color: boolean }): Promise<void> {
  const pieces = format === 'html' ? [(await import('./html.js')).html(report)] : findingsFormatters[format](report, context);
  let pending = '';
  for (const piece of pieces) {
    pending += piece;
    if (pending.length >= 1 << 16) {
      await write(pending);
      pending = '';
    }
  }
  if (pending) await write(pending);
}

export const findingsFormatters = { stylish, json, sarif, junit, csv } satisfies Record<string, FindingsFormatter>;
export type FindingsFormat = keyof typeof findingsFormatters | 'html';
