import { auditFile, domainOf, type AuditContext, type Finding } from '../audit/audit.js';
import { loadCatalog } from '../catalog/catalog.js';
import { groupOf } from '../fleet/users.js';
import { atLeast, CODES, type Severity } from '../diagnostics/diagnostic.js';
import { findingsFormatters, summarize, type FindingsFormat } from '../format/findings.js';
import { formatters } from '../format/formatters.js';
import { EXIT, type Io } from './io.js';
import { loadPolicy } from './load.js';
import { missingPaths, pulledFiles } from './pulled.js';
import { VERSION } from './main.js';

/** `mdmgen audit FLEET PATH...`: 0 compliant, 1 findings at or above --fail-on, 2 usage error or bad fleet.yaml. */
export async function audit(io: Io, fleetFile: string, paths: string[], options: { format: FindingsFormat; failOn: Severity }): Promise<number> {
  const loaded = await loadPolicy(io, fleetFile);
  const { fleet, source } = loaded;
  if (!fleet || !source || loaded.diagnostics.some((d) => d.severity === 'error')) {
    io.stderr(formatters.stylish(loaded.diagnostics, { color: io.stderrIsTTY && !io.env.NO_COLOR }));
    return EXIT.usage;
  }
  const context: AuditContext = {
    fleet, source, catalog: loadCatalog(),
    usersByName: new Map((loaded.users ?? []).map((u) => [u.name, u])),
  };
  const missing = missingPaths(io.cwd, paths);
  if (missing.length) {
    io.stderr(`mdmgen: no such file or folder: ${missing.join(', ')}\n`);
    return EXIT.usage;
  }

  const findings: Finding[] = [];
  const audited: { file: string; group: string | null; domain: string }[] = [];
  const hosts = new Set<string>();
  const users = new Set<string>();
  try {
    for await (const pulled of pulledFiles(io.cwd, paths, (path) => domainOf(path, context) !== undefined)) {
      if (pulled.host) hosts.add(pulled.host);
      if (pulled.user) users.add(`${pulled.host}/${pulled.user}`);
      const domain = domainOf(pulled.file.split('!/').pop()!.split('\\').join('/'), context)!;
      const known = pulled.user !== null ? context.usersByName.get(pulled.user) : undefined;
      audited.push({ file: pulled.file, group: (known && groupOf(fleet, known)?.name) ?? null, domain });
      if (Buffer.isBuffer(pulled.bytes)) {
        findings.push(...auditFile({ ...pulled, bytes: pulled.bytes }, domain, context));
      } else {
        findings.push({
          code: 'audit/unreadable', severity: CODES['audit/unreadable'], message: `unreadable plist: ${pulled.bytes.problem}`, file: pulled.file,
          host: pulled.host, user: pulled.user, group: null, domain, key: null, expected: null, actual: null, policy: null,
        });
      }
      if (io.stderrIsTTY && audited.length % 1000 === 0) io.stderr(`\raudited ${audited.length} plists`);
    }
  } catch (error) {
    io.stderr(`mdmgen: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  if (io.stderrIsTTY && audited.length >= 1000) io.stderr(`\raudited ${audited.length} plists\n`);

  // Files arrive in folder or archive order; the report is in path order, each file's findings by line.
  const byPath = (a: { file: string }, b: { file: string }) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
  findings.sort((a, b) => byPath(a, b) || (a.line ?? 0) - (b.line ?? 0));
  audited.sort(byPath);
  const report = { summary: summarize(audited.length, findings, hosts, users), findings, audited, version: VERSION, fleet: fleetFile };
  const color = io.stdoutIsTTY && !io.env.NO_COLOR;
  io.stdout(options.format === 'html' ? (await import('../format/html.js')).html(report) : findingsFormatters[options.format](report, { color }));
  return findings.some((f) => atLeast(f.severity, options.failOn)) ? EXIT.findings : EXIT.ok;
}
