import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SHARED, type Tagged } from './helpers.js';

/** One key of Apple's device-management schema (shared/reference/apple-device-management). */
export interface AppleKey {
  key: string;
  type: string;
  presence?: 'required' | 'optional';
  rangelist?: unknown[];
  subkeys?: AppleKey[];
}

export function appleKeys(payload: string): AppleKey[] {
  const file = join(SHARED, 'reference', 'apple-device-management', 'mdm', 'profiles', `${payload}.yaml`);
  return (parse(readFileSync(file, 'utf8')) as { payloadkeys: AppleKey[] }).payloadkeys;
}

const TYPES: Record<string, Tagged['type']> = {
  '<string>': 'string', '<integer>': 'integer', '<boolean>': 'bool', '<array>': 'array',
  '<dictionary>': 'dict', '<data>': 'data', '<date>': 'date', '<real>': 'real',
};

/**
 * Problems of a tagged plist value against Apple's key list: unknown keys, missing required keys, wrong
 * types, values outside a rangelist. `extra` names keys the project documents beyond Apple's schema.
 */
export interface Exceptions {
  /** Keys beyond Apple's schema, with their type. */
  keys?: Record<string, Tagged['type']>;
  /** Values beyond a key's rangelist. */
  values?: Record<string, string[]>;
}

export function checkAgainstApple(value: Tagged, keys: AppleKey[], where: string, extra: Exceptions = {}): string[] {
  if (value.type !== 'dict') return [`${where}: expected a dictionary, got ${value.type}`];
  const problems: string[] = [];
  const wildcard = keys.find((k) => k.key === 'ANY');
  for (const k of keys) {
    if (k.key !== 'ANY' && k.presence === 'required' && !(k.key in value.value)) problems.push(`${where}: required key ${k.key} missing`);
  }
  for (const [name, child] of Object.entries(value.value)) {
    const schema = keys.find((k) => k.key === name) ?? wildcard;
    if (!schema) {
      if (extra.keys?.[name] === child.type) continue;
      problems.push(`${where}: key ${name} is not in Apple's schema`);
      continue;
    }
    problems.push(...checkValue(child, schema, `${where}.${name}`, extra));
  }
  return problems;
}

function checkValue(value: Tagged, schema: AppleKey, where: string, extra: Exceptions): string[] {
  if (schema.type === '<any>') return [];
  const expected = TYPES[schema.type];
  if (value.type !== expected) return [`${where}: type ${value.type}, Apple says ${schema.type}`];
  const allowed = [...(schema.rangelist ?? []).map(String), ...(extra.values?.[schema.key] ?? [])];
  if (schema.rangelist && !allowed.includes(String(value.value))) {
    return [`${where}: ${String(value.value)} is not in Apple's rangelist ${schema.rangelist.join(', ')}`];
  }
  if (value.type === 'dict' && schema.subkeys) return checkAgainstApple(value, schema.subkeys, where, extra);
  if (value.type === 'array' && schema.subkeys?.[0]) {
    const item = schema.subkeys[0];
    return value.value.flatMap((v, i) => checkValue(v, item, `${where}[${i}]`, extra));
  }
  return [];
}
