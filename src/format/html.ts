import { template } from '../precompiled.js';
import type { Audited, Finding } from '../audit/audit.js';
import type { AuditReport } from './findings.js';

interface Bar { label: string; compliant: number; total: number; percent: number }

/** Share of audited plists with no error finding, per group; and per setting, of the plists of its domain. */
function compliance(findings: readonly Finding[], audited: Iterable<Audited>): { groups: Bar[]; settings: Bar[] } {
  const failing = new Set(findings.filter((f) => f.severity === 'error').map((f) => f.file));
  const groups = new Map<string, { compliant: number; total: number }>();
  const filesOfDomain = new Map<string, number>();
  for (const a of audited) {
    const g = groups.get(a.group ?? 'base policy') ?? { compliant: 0, total: 0 };
    g.total++;
    if (!failing.has(a.file)) g.compliant++;
    groups.set(a.group ?? 'base policy', g);
    filesOfDomain.set(a.domain, (filesOfDomain.get(a.domain) ?? 0) + 1);
  }
  const badBySetting = new Map<string, Set<string>>();
  for (const f of findings) {
    if (f.severity !== 'error' || !f.key || !f.domain) continue;
    const id = `${f.domain} ${f.key}`;
    badBySetting.set(id, (badBySetting.get(id) ?? new Set()).add(f.file));
  }
  const bar = (label: string, compliant: number, total: number): Bar => ({ label, compliant, total, percent: total ? Math.round((compliant / total) * 1000) / 10 : 100 });
  return {
    groups: [...groups].sort(([a], [b]) => (a < b ? -1 : 1)).map(([label, g]) => bar(label, g.compliant, g.total)),
    settings: [...badBySetting].map(([id, files]) => {
      const total = filesOfDomain.get(id.split(' ')[0]!) ?? files.size;
      return bar(id.replace(' ', ': '), total - files.size, total);
    }).sort((a, b) => a.percent - b.percent || (a.label < b.label ? -1 : 1)),
  };
}

/** One self-contained HTML file: no network, no external script or style. A page holds its findings, and so does this, as one string. */
export function html(report: AuditReport): string {
  const findings = [...report.findings];
  const render = template('report/audit.html.hbs', {
    lt: (a: number, b: number) => a < b,
    plural: (count: number, word: string) => (count === 1 ? word : `${word}s`),
  });
  const { groups, settings } = compliance(findings, report.audited);
  const rows = findings.map((f) => ({
    severity: f.severity, code: f.code, host: f.host ?? '', user: f.user ?? '', group: f.group ?? '', domain: f.domain ?? '', key: f.key ?? '',
    expected: f.expected ?? '', actual: f.actual ?? '', message: f.message, file: f.line !== undefined ? `${f.file}:${f.line}` : f.file,
  }));
  return render({ ...report.summary, fleet: report.fleet, version: report.version, groups, settings, rows, total: findings.length, compliant: findings.every((f) => f.severity !== 'error') });
}
