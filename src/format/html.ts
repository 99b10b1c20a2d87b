import type { Finding } from '../audit/audit.js';
import { template } from '../precompiled.js';
import { byFile, findingCount, type AuditReport } from './findings.js';
import { printable } from './terminal.js';

interface Bar { label: string; compliant: number; total: number; percent: number }

/**
 * The most findings the page lists: a browser sorts and filters 10,000 rows at once, not the 320,000 of a
 * fleet all off its policy (a 144 MB page, which took mdmgen 35 s and 1.08 GB to write). The counts and
 * charts count every finding.
 */
export const HTML_ROWS = 10_000;

/**
 * Share of audited plists with no error finding, per group; and per setting, of the plists of its domain;
 * with the first HTML_ROWS findings. One pass over the report, a file's findings held at a time.
 */
function tally(report: AuditReport): { groups: Bar[]; settings: Bar[]; listed: Finding[] } {
  const groups = new Map<string, { compliant: number; total: number }>();
  const filesOfDomain = new Map<string, number>();
  const failingBySetting = new Map<string, number>();
  const listed: Finding[] = [];
  for (const { audited, findings } of byFile(report.audited, report.findings)) {
    for (const f of findings) if (listed.length < HTML_ROWS) listed.push(f);
    const errors = findings.filter((f) => f.severity === 'error');
    if (audited) {
      const label = audited.group ?? 'base policy';
      const g = groups.get(label) ?? { compliant: 0, total: 0 };
      g.total++;
      if (errors.length === 0) g.compliant++;
      groups.set(label, g);
      // A plist missing from the pull counts against its group; a setting's share is of the plists read.
      if (!findings.some((f) => f.code === 'audit/missing-plist')) filesOfDomain.set(audited.domain, (filesOfDomain.get(audited.domain) ?? 0) + 1);
    }
    const settings = new Set(errors.filter((f) => f.key && f.domain).map((f) => `${f.domain} ${f.key}`));
    for (const id of settings) failingBySetting.set(id, (failingBySetting.get(id) ?? 0) + 1);
  }
  const bar = (label: string, compliant: number, total: number): Bar => ({ label: printable(label), compliant, total, percent: total ? Math.round((compliant / total) * 1000) / 10 : 100 });
  return {
    groups: [...groups].sort(([a], [b]) => (a < b ? -1 : 1)).map(([label, g]) => bar(label, g.compliant, g.total)),
    settings: [...failingBySetting].map(([id, failing]) => {
      const total = filesOfDomain.get(id.split(' ')[0]!) ?? failing;
      return bar(id.replace(' ', ': '), total - failing, total);
    }).sort((a, b) => a.percent - b.percent || (a.label < b.label ? -1 : 1)),
    listed,
  };
}

/** One self-contained HTML file: no network, no external script or style. */
export function html(report: AuditReport): string {
  const render = template('report/audit.html.hbs', {
    lt: (a: number, b: number) => a < b,
    plural: (count: number, word: string) => (count === 1 ? word : `${word}s`),
  });
  const { groups, settings, listed } = tally(report);
  // Control and bidirectional characters shown as escapes, as on a terminal: a folder name holding U+202E
  // would otherwise show its row's text reversed, hiding which Mac a finding is about.
  const rows = listed.map((f) => ({
    severity: f.severity, code: f.code, host: printable(f.host ?? ''), user: printable(f.user ?? ''), group: printable(f.group ?? ''), domain: printable(f.domain ?? ''), key: printable(f.key ?? ''),
    expected: printable(f.expected ?? ''), actual: printable(f.actual ?? ''), message: printable(f.message), file: printable(f.line !== undefined ? `${f.file}:${f.line}` : f.file),
  }));
  const total = findingCount(report.summary);
  return render({ ...report.summary, fleet: printable(report.fleet), version: report.version, validation: report.validation ?? false, groups, settings, rows, listed: rows.length, total, cut: total > rows.length, compliant: report.summary.errors === 0 });
}
