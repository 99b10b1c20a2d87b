/**
 * A typed plist value. Integers are numbers (safe range) or bigints; reals are wrapped so that 1.0 stays a
 * real; dictionaries are plain objects whose keys the writers sort.
 */
export type PlistValue =
  | string | boolean | number | bigint | Real | Date | Uint8Array
  | readonly PlistValue[]
  | PlistDict;
export interface PlistDict { readonly [key: string]: PlistValue }

export class Real {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

export function isDict(value: PlistValue): value is PlistDict {
  return typeof value === 'object' && value !== null && !Array.isArray(value) &&
    !(value instanceof Real) && !(value instanceof Date) && !(value instanceof Uint8Array);
}

/**
 * Key order of every written dictionary: by UTF-16 code unit, as CoreFoundation sorts them (what sort()
 * does without a comparator, and what < does). An insertion sort in place: a profile's dictionaries have a
 * few keys each, and Array.prototype.sort's work copies were a seventh of what building a profile allocated.
 */
export function sortedKeys(dict: PlistDict): string[] {
  const keys = Object.keys(dict);
  if (keys.length > 32) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    for (; j >= 0 && keys[j]! > key; j--) keys[j + 1] = keys[j]!;
    keys[j + 1] = key;
  }
  return keys;
}

const frozen = new WeakSet<object>();

/**
 * Deep-freezes a value that many documents share, and marks it so the XML writer may serialise it once and
 * reuse the text: being frozen, it cannot change between two uses.
 */
export function freezePlist<T extends PlistValue>(value: T): T {
  if (typeof value !== 'object' || value instanceof Real || value instanceof Date || frozen.has(value)) return value;
  if (value instanceof Uint8Array) return value; // a typed array cannot be frozen; its base64 is not cached
  for (const item of Object.values(value)) freezePlist(item as PlistValue);
  frozen.add(Object.freeze(value));
  return value;
}

export function isFrozenPlist(value: object): boolean {
  return frozen.has(value);
}
