import {
  isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, Scalar, visit,
  type Document, type Node, type Pair, type YAMLMap
} from 'yaml';
import type { Code, Diagnostic, KeyPath } from '../diagnostics/diagnostic.js';
import { CODES } from '../diagnostics/diagnostic.js';
import { decodeText, firstInvalidXmlChar } from './utf8.js';

export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

export interface ParsedYaml {
  source?: YamlSource;
  /** The document as data: integers as bigint, floats as number, maps as plain objects. */
  data?: unknown;
  diagnostics: Diagnostic[];
}

export const MAX_YAML_BYTES = 8 * 1024 * 1024;
const MAX_DEPTH = 64;
const MAX_ALIASES = 200;
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/**
 * YAML 1.1's typed tags, which the yaml package still resolves when written out: they load as a Buffer, a
 * Date, a Set or a Map, which no check after the parser expects (a Set read as an empty map dropped its keys).
 */
const YAML_11_TYPES: Readonly<Record<string, string>> = {
  'tag:yaml.org,2002:binary': '!!binary is a YAML 1.1 type mdmgen does not read: a catalogue key of type data takes its base64 text as a plain string',
  'tag:yaml.org,2002:timestamp': '!!timestamp is a YAML 1.1 type mdmgen does not read: no preference it writes is a date',
  'tag:yaml.org,2002:set': '!!set is a YAML 1.1 type with no plist form: write a list',
  'tag:yaml.org,2002:omap': '!!omap is a YAML 1.1 type with no plist form (a plist dictionary keeps no order): write a map',
  'tag:yaml.org,2002:pairs': '!!pairs is a YAML 1.1 type with no plist form: write a map',
};
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * Parses one YAML document with positions. Every fault of section A of the hostile-inputs guide comes back
 * as exactly one located diagnostic; nothing here throws on user input.
 */
export function parseYaml(file: string, bytes: Uint8Array): ParsedYaml {
  const at = (code: Code, message: string, where: { line?: number; column?: number; offset?: number } = {}): ParsedYaml => ({
    diagnostics: [{ code, severity: CODES[code], message, file, ...where }],
  });
  if (bytes.length > MAX_YAML_BYTES) return at('yaml/too-large', `file is ${bytes.length} bytes; the limit is ${MAX_YAML_BYTES}`);
  const decoded = decodeText(bytes);
  if ('invalidAt' in decoded) {
    return at('yaml/invalid-utf8', `${decoded.problem} at byte offset ${decoded.invalidAt}; save the file as UTF-8`, { offset: decoded.invalidAt });
  }

  const lineCounter = new LineCounter();
  const doc = parseDocument(decoded.text, {
    lineCounter, intAsBigInt: true, merge: true, uniqueKeys: true, prettyErrors: false, strict: true,
  });
  const source: YamlSource = { file, doc, lineCounter };
  const diagnostics: Diagnostic[] = [];
  const report = (code: Code, message: string, offset: number) =>
    diagnostics.push({ code, severity: CODES[code], message, file, ...position(lineCounter, offset) });

  const seen = new Set<string>();
  for (const error of doc.errors) {
    const code = yamlErrorCode(error.code);
    // A stack overflow inside the parser repeats once per frame it unwinds; one report is the fault.
    if (seen.has(code)) continue;
    seen.add(code);
    report(code, yamlErrorMessage(error.code, error.message), error.pos[0]);
  }
  for (const warning of doc.warnings) report('yaml/warning', firstLine(warning.message), warning.pos[0]);
  if (diagnostics.some((d) => d.severity === 'error')) return { source, diagnostics };

  checkNodes(doc, report);
  if (diagnostics.some((d) => d.severity === 'error')) return { source, diagnostics };

  try {
    return { source, data: doc.toJS({ maxAliasCount: MAX_ALIASES }), diagnostics };
  } catch (error) {
    const firstAlias = findFirstAlias(doc);
    const message = error instanceof ReferenceError
      ? `aliases expand to too many nodes (more than ${MAX_ALIASES} per alias); this looks like an alias bomb`
      : 'the document is nested too deeply to load';
    report(error instanceof ReferenceError ? 'yaml/alias-limit' : 'yaml/too-deep', message, firstAlias ?? 0);
    return { source, diagnostics };
  }
}

/** Checks the YAML library accepts but a plist cannot carry or an admin did not mean. */
function checkNodes(doc: Document.Parsed, report: (code: Code, message: string, offset: number) => void): void {
  let tooDeep = false;
  visit(doc, {
    Collection: (_, node, path) => {
      if (path.filter((p) => isMap(p) || isSeq(p)).length < MAX_DEPTH) return undefined;
      tooDeep = true;
      report('yaml/too-deep', `nesting is deeper than ${MAX_DEPTH} levels`, node.range?.[0] ?? 0);
      return visit.BREAK;
    },
  });
  if (tooDeep) return;
  const checkTag = (node: Node) => {
    const message = node.tag === undefined ? undefined : YAML_11_TYPES[node.tag];
    if (message) report('yaml/unsupported-type', message, node.range?.[0] ?? 0);
  };
  visit(doc, {
    Map: (_, map) => {
      checkTag(map);
      checkKeys(doc, map, report);
    },
    Seq: (_, seq) => void checkTag(seq),
    Pair: (_, pair) => {
      if (isScalar(pair.key) && RESERVED_KEYS.has(String(pair.key.value))) {
        report('yaml/reserved-key', `the key "${String(pair.key.value)}" is reserved and cannot be used`, pair.key.range?.[0] ?? 0);
      }
    },
    Scalar: (_, node) => {
      checkTag(node);
      const offset = node.range?.[0] ?? 0;
      const { value } = node;
      if (typeof value === 'bigint') {
        if (value < INT64_MIN || value > UINT64_MAX) {
          report('yaml/integer-out-of-range', 'integer is outside the 64-bit range a plist can hold', offset);
        } else if (/^[-+]?0\d+$/.test(node.source ?? '')) {
          const digits = node.source!.replace(/^[-+]?0+/, '') || '0';
          report('yaml/ambiguous-octal', `"${node.source}" has a leading zero: YAML 1.2 reads it as decimal ${value}, not octal; write ${value}, 0o${digits} for octal, or quote it`, offset);
        }
      } else if (typeof value === 'number' && !Number.isFinite(value)) {
        report('yaml/not-finite', 'NaN and infinity cannot be written to a preference file', offset);
      } else if (typeof value === 'string') {
        const bad = firstInvalidXmlChar(value);
        if (bad >= 0) {
          const code = value.codePointAt(bad)!.toString(16).toUpperCase().padStart(4, '0');
          report('yaml/invalid-character', `string contains U+${code} at character ${bad + 1}, which a plist cannot hold`, offset);
        }
      }
    },
  });
}

/**
 * A plist's keys are text, so a map's keys must be too, and distinct as text: YAML keeps `1` and "1" apart,
 * and loading them into one object kept the last silently; a list as a key became "[ x ]", and `~` an empty key.
 */
function checkKeys(doc: Document.Parsed, map: YAMLMap, report: (code: Code, message: string, offset: number) => void): void {
  const seen = new Map<string, string>();
  const kind = (value: unknown) => (typeof value === 'string' ? 'text' : typeof value === 'boolean' ? 'a boolean' : 'a number');
  for (const pair of map.items) {
    if (isMergeKey(pair.key)) continue;
    const offset = (pair.key as Node | null)?.range?.[0] ?? map.range?.[0] ?? 0;
    const key = resolveAlias(doc, pair.key);
    if (!isScalar(key) || key.value === null) {
      report('yaml/unsupported-type', `a key must be text, not ${isScalar(key) || key === null ? 'empty' : 'a list or a map'}`, offset);
      continue;
    }
    const text = String(key.value);
    const first = seen.get(text);
    if (first !== undefined) report('yaml/duplicate-key', `the key "${text}" is in this map twice, as ${first} and as ${kind(key.value)}: a plist's keys are all text`, offset);
    seen.set(text, kind(key.value));
  }
}

function findFirstAlias(doc: Document.Parsed): number | undefined {
  let offset: number | undefined;
  visit(doc, {
    Alias: (_, node) => {
      offset = node.range?.[0];
      return visit.BREAK;
    },
  });
  return offset;
}

export function position(lineCounter: LineCounter, offset: number): { line: number; column: number } {
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

/**
 * Where a key path lies in the document: on the key (for unknown keys) or on the value. Missing segments
 * fall back to the nearest ancestor that exists, so every diagnostic gets a line.
 */
export function locate(source: YamlSource, keyPath: KeyPath, on: 'key' | 'value' = 'value'): { line: number; column: number } {
  let node: unknown = source.doc.contents;
  let offset = (node as Node | null)?.range?.[0] ?? 0;
  for (let i = 0; i < keyPath.length; i++) {
    const segment = keyPath[i]!;
    node = resolveAlias(source.doc, node);
    let next: unknown;
    let keyOffset: number | undefined;
    if (isMap(node)) {
      const pair = findPair(source.doc, node.items, String(segment));
      if (pair) {
        next = pair.value;
        keyOffset = (pair.key as Node | null)?.range?.[0];
      }
    } else if (isSeq(node) && typeof segment === 'number') {
      next = node.items[segment];
    }
    if (next === undefined && keyOffset === undefined) break;
    const last = i === keyPath.length - 1;
    const valueOffset = (next as Node | null)?.range?.[0];
    offset = (last && on === 'key' ? keyOffset ?? valueOffset : valueOffset ?? keyOffset) ?? offset;
    node = next;
  }
  return position(source.lineCounter, offset);
}

function findPair(doc: Document.Parsed, items: Pair[], key: string): Pair | undefined {
  const own = items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
  if (own) return own;
  for (const merge of items.filter((p) => isMergeKey(p.key))) {
    const sources = isSeq(merge.value) ? merge.value.items : [merge.value];
    for (const candidate of sources) {
      const target = resolveAlias(doc, candidate);
      if (isMap(target)) {
        const found = findPair(doc, target.items as Pair[], key);
        if (found) return found;
      }
    }
  }
  return undefined;
}

/** A plain `<<` key, as the yaml package tells one: since its 2.6, the value it reads is Symbol('<<'), not the text. */
function isMergeKey(key: unknown): boolean {
  if (!isScalar(key) || (key.type !== undefined && key.type !== Scalar.PLAIN)) return false;
  return key.value === '<<' || (typeof key.value === 'symbol' && key.value.description === '<<');
}

function resolveAlias(doc: Document.Parsed, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

function yamlErrorCode(code: string): Code {
  switch (code) {
    case 'DUPLICATE_KEY': return 'yaml/duplicate-key';
    case 'MULTIPLE_DOCS': return 'yaml/multiple-documents';
    case 'RESOURCE_EXHAUSTION': return 'yaml/too-deep';
    default: return 'yaml/syntax';
  }
}

function yamlErrorMessage(code: string, message: string): string {
  switch (code) {
    case 'DUPLICATE_KEY': return 'this key appears twice in the same map; keep one';
    case 'MULTIPLE_DOCS': return 'a single YAML document was expected; remove the second "---" document';
    case 'RESOURCE_EXHAUSTION': return 'the document is nested too deeply to parse';
    default: return firstLine(message);
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '').trim();
}

