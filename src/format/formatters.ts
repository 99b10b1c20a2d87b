import { countBySeverity, displayKeyPath, type Diagnostic } from '../diagnostics/diagnostic.js';
import { jsonText, paint, printable } from './terminal.js';

export type Formatter = (diagnostics: readonly Diagnostic[], context: { color: boolean }) => string;

const SEVERITY_COLOR = { error: 31, warning: 33, info: 36 } as const;

/** For people: `file:line:column  severity  message  code`, which terminals and editors make clickable. */
export const stylish: Formatter = (diagnostics, { color }) => {
  if (diagnostics.length === 0) return '';
  const lines = diagnostics.map((d) => {
    const where = d.line !== undefined ? `${d.file}:${d.line}:${d.column}` : d.offset !== undefined ? `${d.file}@${d.offset}` : d.file;
    return `${printable(where)}  ${paint(color, SEVERITY_COLOR[d.severity], d.severity)}  ${printable(d.message)}  ${paint(color, 2, d.code)}`;
  });
  const counts = countBySeverity(diagnostics);
  const total = diagnostics.length;
  lines.push('', `${total} problem${total === 1 ? '' : 's'} (${counts.error} error${counts.error === 1 ? '' : 's'}, ${counts.warning} warning${counts.warning === 1 ? '' : 's'})`);
  return `${lines.join('\n')}\n`;
};

/** The contract for machines: one object, every field present, null where a field does not apply. */
export const json: Formatter = (diagnostics) => {
  const counts = countBySeverity(diagnostics);
  const out = {
    summary: { errors: counts.error, warnings: counts.warning, infos: counts.info },
    diagnostics: diagnostics.map((d) => ({
      file: d.file,
      line: d.line ?? null,
      column: d.column ?? null,
      offset: d.offset ?? null,
      severity: d.severity,
      code: d.code,
      message: d.message,
      keyPath: d.keyPath ? displayKeyPath(d.keyPath) : null,
    })),
  };
  return jsonText(out);
};

export const formatters = { stylish, json } satisfies Record<string, Formatter>;
export type FormatName = keyof typeof formatters;
