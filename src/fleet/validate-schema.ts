import { createRequire } from 'node:module';
import type { ErrorObject, Options, ValidateFunction } from 'ajv';
import { CODES, displayKeyPath, type Code, type Diagnostic, type KeyPath } from '../diagnostics/diagnostic.js';
import { suggest } from '../diagnostics/suggest.js';
import { locate, type YamlSource } from '../source/yaml-source.js';

/**
 * allErrors is safe here: fleet.yaml is the admin's own file, and its size is capped before parsing.
 * No coerceTypes, useDefaults or removeAdditional: validation never changes the data. verbose gives each
 * error its schema, which the "did you mean" hints read.
 */
export const AJV_OPTIONS: Options = { allErrors: true, strict: true, verbose: true };

let compiled: ValidateFunction | undefined;

/** The validator scripts/bake.mjs compiled at build time from fleetSchema(catalogue, { forValidation: true }). */
function validator(): ValidateFunction {
  compiled ??= createRequire(import.meta.url)('../../generated/fleet-validator.cjs') as ValidateFunction;
  return compiled;
}

/** Validates the document's structure against the fleet schema; catalogue keys are checked in normalize. */
export function validateSchema(source: YamlSource, json: unknown): Diagnostic[] {
  const validate = validator();
  if (validate(json)) return [];
  const errors = validate.errors ?? [];
  // anyOf/oneOf failures repeat below as one error per branch: report the branch errors only when the value
  // is an object (a field inside it is wrong), otherwise one message for the whole value.
  const alternatives = new Set(errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.instancePath));
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const inAlternative = [...alternatives].some((p) => error.instancePath === p && error.keyword !== 'anyOf' && error.keyword !== 'oneOf');
    // A key that breaks propertyNames is one error, located at the key: its own (pattern, maxLength...) says which.
    if (inAlternative || error.keyword === 'propertyNames') continue;
    const diagnostic = toDiagnostic(source, error);
    const id = `${diagnostic.line}:${diagnostic.column}:${diagnostic.code}:${diagnostic.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    diagnostics.push(diagnostic);
  }
  return diagnostics;
}

function toDiagnostic(source: YamlSource, error: ErrorObject): Diagnostic {
  const keyPath = keyPathOf(error.instancePath);
  const where = displayKeyPath(keyPath);
  const make = (code: Code, message: string, at: KeyPath, on: 'key' | 'value' = 'value'): Diagnostic => ({
    code, severity: CODES[code], message, file: source.file, keyPath: at, ...locate(source, at, on),
  });
  if (error.propertyName !== undefined) {
    const description = (error.parentSchema as { description?: string }).description;
    return make('schema/value', `"${error.propertyName}" cannot be a key of ${where}${description ? `: ${description.replace(/\.$/, '')}` : ''}`, [...keyPath, error.propertyName], 'key');
  }
  switch (error.keyword) {
    case 'required': {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      return make('schema/required', `${where} is missing the required key "${missing}"`, keyPath, 'key');
    }
    case 'additionalProperties': {
      const extra = (error.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys((error.parentSchema as { properties?: object }).properties ?? {});
      const hint = suggest(extra, known);
      const scope = keyPath.length ? ` in ${where}` : '';
      return make('schema/unknown-key', `unknown key "${extra}"${scope}${hint ? `; did you mean "${hint}"?` : ''}`, [...keyPath, extra], 'key');
    }
    case 'type': {
      const data = error.data;
      if (data === null && !keyPath.length) return make('schema/type', 'the file is empty; `mdmgen init` writes a fleet.yaml to start from', keyPath);
      if (data === null) return make('schema/type', `${where} has no value; write a value or remove the key`, keyPath);
      const expected = (error.params as { type: string }).type;
      const hint = typeof data !== 'string' ? undefined : expected === 'boolean' ? booleanHint(data) : expected === 'integer' && /^[-+]?\d+$/.test(data.trim()) ? `write ${data.trim()} without quotes` : undefined;
      return make('schema/type', `${where} must be ${article(expected)}, not ${typeName(data)}${hint ? `: ${hint}` : ''}`, keyPath);
    }
    case 'enum': {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
      const hint = typeof error.data === 'string' ? suggest(error.data, allowed.filter((v): v is string => typeof v === 'string')) : undefined;
      // Values that are not words (directory.delimiter's "," ";" "\t") are shown as YAML would quote them.
      const shown = allowed.map((v) => (typeof v === 'string' && !/^[\w.-]+$/.test(v) ? JSON.stringify(v) : String(v)));
      return make('schema/value', `${where} must be one of: ${shown.join(', ')}${hint ? `; did you mean ${hint}?` : ''}`, keyPath);
    }
    case 'const':
      return make('schema/value', `${where} must be ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}`, keyPath);
    case 'pattern':
    case 'anyOf':
    case 'oneOf': {
      const description = (error.parentSchema as { description?: string }).description;
      const expected = description ? `: ${description.replace(/\.$/, '')}` : '';
      return make('schema/value', `${where} is not valid${expected}`, keyPath);
    }
    default:
      return make('schema/value', `${where} ${error.message ?? 'is not valid'}`, keyPath);
  }
}

function keyPathOf(pointer: string): KeyPath {
  if (!pointer) return [];
  return pointer.slice(1).split('/').map((s) => {
    const segment = s.replace(/~1/g, '/').replace(/~0/g, '~');
    return /^(0|[1-9]\d*)$/.test(segment) ? Number(segment) : segment;
  });
}

/** What to write for a boolean written as text: YAML 1.1 read yes, no, on and off as booleans; 1.2 reads them as text. */
export function booleanHint(text: string): string | undefined {
  const word = /^(?:(yes|y|on|true)|(no|n|off|false))$/i.exec(text);
  if (!word) return undefined;
  const fix = word[1] ? 'true' : 'false';
  return /^(true|false)$/i.test(word[0]) ? `write ${fix} without quotes` : `YAML 1.2 reads ${word[0]} as text (write ${fix})`;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

export function typeName(value: unknown): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'boolean') return 'a boolean';
  if (typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value))) return 'an integer';
  return 'a number';
}
