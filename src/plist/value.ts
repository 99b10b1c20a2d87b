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

/** Key order of every written dictionary: by UTF-16 code unit, as CoreFoundation sorts them. */
export function sortedKeys(dict: PlistDict): string[] {
  return Object.keys(dict).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
