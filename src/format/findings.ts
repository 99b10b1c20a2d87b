import type { Finding } from '../audit/audit.js';
import { CODES, countBySeverity, type Severity } from '../diagnostics/diagnostic.js';
import { jsonText, paint, printable } from './terminal.js';

export interface AuditSummary {
  files: number;
  unreadable: number;
  hosts: number;
  users: number;
  errors: number;
  warnings: number;
  infos: number;
}

export interface AuditReport {
  summary: AuditSummary;
  findings: readonly Finding[];
  /** Every plist audited, for compliance rates. */
  audited: readonly { file: string; group: string | null; domain: string }[];
  version: string;
  fleet: string;
}

export type FindingsFormatter = (report: AuditReport, context: { color: boolean }) => string;

export function summarize(files: number, findings: readonly Finding[], hosts: number, users: number): AuditSummary {
  const counts = countBySeverity(findings);
  return {
    files, unreadable: findings.filter((f) => f.code === 'audit/unreadable').length, hosts, users,
    errors: counts.error, warnings: counts.warning, infos: counts.info,
  };
}

const COLORS: Record<Severity, number> = { error: 31, warning: 33, info: 36 };

/** For people: findings grouped by host and user, then a summary line. */
export const stylish: FindingsFormatter = ({ summary, findings }, { color }) => {
  const lines: string[] = [];
  let heading = '';
  for (const f of findings) {
    const who = f.host === null && f.user === null
      ? '(no host or user in the path)'
      : `${f.host ?? '(no host)'} / ${f.user ?? '(no user)'}${f.group ? ` (${f.group})` : ''}`;
    if (who !== heading) {
      if (heading) lines.push('');
      lines.push(paint(color, 1, printable(who)));
      heading = who;
    }
    const where = f.line !== undefined ? `${f.file}:${f.line}` : f.offset !== undefined ? `${f.file}@0x${f.offset.toString(16)}` : f.file;
    lines.push(`  ${printable(where)}  ${paint(color, COLORS[f.severity], f.severity)}  ${printable(f.message)}  ${paint(color, 2, f.code)}`);
  }
  if (lines.length) lines.push('');
  const n = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
  lines.push(`${n(findings.length, 'finding')} (${n(summary.errors, 'error')}, ${n(summary.warnings, 'warning')}, ${n(summary.infos, 'info')}) in ${n(summary.files, 'plist')} from ${n(summary.hosts, 'host')} and ${n(summary.users, 'user')}${summary.unreadable ? `; ${summary.unreadable} unreadable` : ''}`);
  return `${lines.join('\n')}\n`;
};

/** The contract (schemas/findings.schema.json): every field present, null where it does not apply. */
export const json: FindingsFormatter = ({ summary, findings }) => jsonText({
  summary,
  findings: findings.map((f) => ({
    file: f.file, host: f.host, user: f.user, group: f.group, domain: f.domain, key: f.key, code: f.code, severity: f.severity,
    expected: f.expected, actual: f.actual, message: f.message, line: f.line ?? null, offset: f.offset ?? null, policy: f.policy,
  })),
});

const CSV_COLUMNS = ['file', 'host', 'user', 'group', 'domain', 'key', 'code', 'severity', 'expected', 'actual', 'message', 'line'] as const;

/** RFC 4180, with cells that a spreadsheet would run as a formula (=, +, -, @) prefixed with '. */
export const csv: FindingsFormatter = ({ findings }) => {
  const cellOf = (value: unknown) => {
    let text = value === null || value === undefined ? '' : String(value);
    if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const rows = findings.map((f) => CSV_COLUMNS.map((c) => cellOf(f[c])).join(','));
  return `${[CSV_COLUMNS.join(','), ...rows].join('\r\n')}\r\n`;
};

export function xml(text: string): string {
  // Characters XML 1.0 cannot carry at all are replaced: a finding's text comes from untrusted files.
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd').replace(/[\ud800-\udfff]/g, (c, i: number, s: string) => {
    const code = c.charCodeAt(0);
    const pair = code < 0xdc00 ? s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff : s.charCodeAt(i - 1) >= 0xd800 && s.charCodeAt(i - 1) <= 0xdbff;
    return pair ? c : '\ufffd';
  }).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** JUnit: one test case per checked file, failing with its error findings (the others as system-out). */
export const junit: FindingsFormatter = ({ summary, findings, audited }) => {
  const byFile = new Map<string, Finding[]>(audited.map((a) => [a.file, []]));
  for (const f of findings) byFile.set(f.file, [...(byFile.get(f.file) ?? []), f]);
  const failing = [...byFile.values()].filter((list) => list.some((f) => f.severity === 'error')).length;
  const cases = [...byFile].map(([file, list]) => {
    const errors = list.filter((f) => f.severity === 'error');
    const others = list.filter((f) => f.severity !== 'error');
    const body = [
      ...errors.map((f) => {
        const detail = [`${f.code}: ${f.message}`, ...(f.expected !== null ? [`expected: ${f.expected}`] : []), ...(f.actual !== null ? [`actual: ${f.actual}`] : [])];
        return `      <failure type="${xml(f.code)}" message="${xml(f.message)}">${xml(detail.join('\n'))}</failure>`;
      }),
      ...(others.length ? [`      <system-out>${xml(others.map((f) => `${f.severity} ${f.code}: ${f.message}`).join('\n'))}</system-out>`] : []),
    ];
    if (body.length === 0) return `    <testcase classname="mdmgen" name="${xml(file)}"/>`;
    return `    <testcase classname="mdmgen" name="${xml(file)}">\n${body.join('\n')}\n    </testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="mdmgen" tests="${byFile.size}" failures="${failing}">\n  <testsuite name="mdmgen" tests="${byFile.size}" failures="${failing}" errors="0" skipped="0">\n${cases.join('\n')}\n  </testsuite>\n</testsuites>\n<!-- ${summary.files} files checked -->\n`;
};

const SARIF_LEVEL: Record<Severity, string> = { error: 'error', warning: 'warning', info: 'note' };

/** SARIF 2.1.0, which code-scanning dashboards read. */
export const sarif: FindingsFormatter = ({ findings, version, fleet }) => {
  const codes = [...new Set(findings.map((f) => f.code))].sort();
  return jsonText({
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
      results: findings.map((f) => ({
        ruleId: f.code,
        level: SARIF_LEVEL[f.severity],
        message: { text: f.message },
        locations: [{ physicalLocation: { artifactLocation: { uri: f.file.split('\\').join('/') }, ...(f.line !== undefined && { region: { startLine: f.line } }) } }],
        properties: { host: f.host, user: f.user, group: f.group, domain: f.domain, key: f.key, expected: f.expected, actual: f.actual, policy: f.policy },
      })),
    }],
  });
};

export const findingsFormatters = { stylish, json, sarif, junit, csv } satisfies Record<string, FindingsFormatter>;
export type FindingsFormat = keyof typeof findingsFormatters | 'html';
