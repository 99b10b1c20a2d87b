import { loadCatalog, type Catalog } from '../catalog/catalog.js';
import { sortDiagnostics, uniqueDiagnostics, type Diagnostic } from '../diagnostics/diagnostic.js';
import { parseYaml, type YamlSource } from '../source/yaml-source.js';
import type { Fleet } from './model.js';
import { normalize } from './normalize.js';
import { checkRules } from './rules.js';
import { validateSchema } from './validate-schema.js';

export interface CheckResult {
  /** Present only when there is no error. */
  fleet?: Fleet;
  /** The parsed document, for locating later findings (directory columns, secrets) in it. */
  source?: YamlSource;
  diagnostics: Diagnostic[];
}

/**
 * Parse, validate against the schema, type by the catalogue, then the cross-key rules. The rules run only on
 * a fleet without errors, so one fault never shows up twice (a bad port and a "range incomplete").
 */
export function checkFleet(file: string, bytes: Uint8Array, catalog: Catalog = loadCatalog()): CheckResult {
  const parsed = parseYaml(file, bytes);
  const { source, data } = parsed;
  const done = (diagnostics: Diagnostic[], fleet?: Fleet): CheckResult => {
    const sorted = sortDiagnostics(uniqueDiagnostics(diagnostics));
    return sorted.some((d) => d.severity === 'error') || !fleet || !source ? { diagnostics: sorted } : { fleet, source, diagnostics: sorted };
  };
  if (!source || data === undefined || parsed.diagnostics.some((d) => d.severity === 'error')) return done(parsed.diagnostics);

  const diagnostics = [...parsed.diagnostics, ...validateSchema(source, toJson(data))];
  const { fleet, diagnostics: typing } = normalize(source, data, catalog);
  diagnostics.push(...typing);
  if (diagnostics.some((d) => d.severity === 'error')) return done(diagnostics);
  diagnostics.push(...checkRules(source, fleet, data as Record<string, unknown>));
  return done(diagnostics, fleet);
}

/** The JSON view the schema validates: YAML integers (bigint) become numbers. */
function toJson(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toJson(v);
    return out;
  }
  return value;
}
