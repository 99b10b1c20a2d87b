import { CODES, type Code, type Diagnostic, type KeyPath } from '../diagnostics/diagnostic.js';
import type { Delimiter, DirectorySpec, User } from '../fleet/model.js';
import { suggest } from '../diagnostics/suggest.js';
import { decodeText, firstInvalidXmlChar } from '../source/utf8.js';
import { readCsv } from './csv.js';
import { macNameKey } from './names.js';

export const MAX_DIRECTORY_BYTES = 256 * 1024 * 1024;

/** What may separate a directory export's fields (directory.delimiter). */
const DELIMITERS: readonly Delimiter[] = [',', ';', '\t'];
const DELIMITER_NAMES: Record<Delimiter, string> = { ',': 'commas', ';': 'semicolons', '\t': 'tabs' };

export interface DirectoryResult {
  users?: Directory;
  diagnostics: Diagnostic[];
}

/**
 * The users of a directory export, packed: each row's mapped cells as one string, with where each cell ends
 * and the row's line in one typed array. As User objects (one for the row, one for its cells, a string a
 * cell), 100,000 users took 26 MB of heap that the build's main thread held to the end; packed they take
 * about 10 MB. A User is made when one is asked for.
 */
export class Directory implements Iterable<User> {
  private readonly variables: readonly string[];
  private readonly rows: string[] = [];
  /** Per row: its line, then where each cell ends in the row's string. */
  private numbers = new Int32Array(1024);
  private readonly stride: number;
  private readonly nameCell: number;
  /** Row indices by a hash of the user name's macNameKey (open addressing, -1 for empty), made by the first get(). */
  private slots?: Int32Array;

  constructor(variables: readonly string[]) {
    this.variables = variables;
    this.stride = variables.length + 1;
    this.nameCell = variables.indexOf('user');
  }

  get size(): number {
    return this.rows.length;
  }

  /** Adds a row; `cells` are in the order of `variables`. */
  add(cells: readonly string[], line: number): number {
    const index = this.rows.length;
    const base = index * this.stride;
    if (base + this.stride > this.numbers.length) {
      const grown = new Int32Array(this.numbers.length * 2);
      grown.set(this.numbers);
      this.numbers = grown;
    }
    this.numbers[base] = line;
    let end = 0;
    cells.forEach((cell, j) => (this.numbers[base + 1 + j] = end += cell.length));
    this.rows.push(cells.join(''));
    this.slots = undefined;
    return index;
  }

  at(index: number): User {
    return userOf(this.variables, this.rows[index]!, this.numbers, index * this.stride);
  }

  /** These rows as they are packed, for another thread: cheaper to send than users, which `unpackUser` gives back. */
  pack(indices: ArrayLike<number>): PackedRows {
    const numbers = new Int32Array(indices.length * this.stride);
    const rows = Array.from(indices, (index, k) => {
      numbers.set(this.numbers.subarray(index * this.stride, (index + 1) * this.stride), k * this.stride);
      return this.rows[index]!;
    });
    return { variables: this.variables, rows, numbers };
  }

  /**
   * The user of this name as a Mac compares names (macNameKey: a home folder JGarcia or an NFD jürgen from
   * HFS+ is the directory's jgarcia or NFC jürgen). Names that are one to a Mac are refused as duplicates.
   */
  get(name: string): User | undefined {
    const slots = (this.slots ??= this.index());
    const mask = slots.length - 1;
    const key = macNameKey(name);
    for (let slot = hash(key) & mask; slots[slot] !== -1; slot = (slot + 1) & mask) {
      const index = slots[slot]!;
      if (macNameKey(this.nameOf(index)) === key) return this.at(index);
    }
    return undefined;
  }

  *[Symbol.iterator](): Iterator<User> {
    for (let i = 0; i < this.rows.length; i++) yield this.at(i);
  }

  private nameOf(index: number): string {
    const base = index * this.stride + 1;
    return this.rows[index]!.slice(this.nameCell === 0 ? 0 : this.numbers[base + this.nameCell - 1]!, this.numbers[base + this.nameCell]!);
  }

  private index(): Int32Array {
    const slots = new Int32Array(2 ** Math.ceil(Math.log2(2 * this.rows.length + 2))).fill(-1);
    const mask = slots.length - 1;
    this.rows.forEach((_, index) => {
      let slot = hash(macNameKey(this.nameOf(index))) & mask;
      while (slots[slot] !== -1) slot = (slot + 1) & mask;
      slots[slot] = index;
    });
    return slots;
  }
}

/** Some users, found by name as Directory.get finds them (a thread's share of the directory). */
export function usersByMacName(users: Iterable<User>): { get(name: string): User | undefined } {
  const byKey = new Map<string, User>();
  for (const user of users) byKey.set(macNameKey(user.name), user);
  return { get: (name) => byKey.get(macNameKey(name)) };
}

export interface PackedRows {
  variables: readonly string[];
  rows: string[];
  numbers: Int32Array;
}

export function unpackUser(packed: PackedRows, k: number): User {
  return userOf(packed.variables, packed.rows[k]!, packed.numbers, k * (packed.variables.length + 1));
}

/** The user of a packed row: its numbers start at `base` (its line, then where each cell ends). */
function userOf(variables: readonly string[], row: string, numbers: Int32Array, base: number): User {
  const values: Record<string, string> = {};
  let start = 0;
  for (let j = 0; j < variables.length; j++) {
    const end = numbers[base + 1 + j]!;
    values[variables[j]!] = row.slice(start, end);
    start = end;
  }
  return { name: values.user!, values, line: numbers[base]!, ...(values.group && { group: values.group }) };
}

/** FNV-1a over UTF-16 code units. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Reads a directory export as Active Directory writes it: a header row, quoted fields holding commas,
 * quotes and line breaks, UTF-8 with or without BOM, CRLF, LF or CR. Problems name the CSV line; a column the
 * mapping names but the header lacks is reported at the mapping in fleet.yaml (through `atMapping`).
 */
export function readDirectory(spec: DirectorySpec, file: string, bytes: Buffer, atMapping: (keyPath: KeyPath) => Omit<Diagnostic, 'code' | 'severity' | 'message'>): DirectoryResult {
  const diagnostics: Diagnostic[] = [];
  const report = (code: Code, message: string, line?: number) =>
    diagnostics.push({ code, severity: CODES[code], message, file, ...(line !== undefined && { line, column: 1 }) });
  if (bytes.length > MAX_DIRECTORY_BYTES) {
    report('directory/unreadable', `file is ${bytes.length} bytes; the limit is ${MAX_DIRECTORY_BYTES}`);
    return { diagnostics };
  }
  const decoded = decodeText(bytes);
  if ('invalidAt' in decoded) {
    diagnostics.push({ code: 'directory/unreadable', severity: CODES['directory/unreadable'], message: `${decoded.problem} at byte offset ${decoded.invalidAt}; export the directory as UTF-8`, file, offset: decoded.invalidAt });
    return { diagnostics };
  }

  const variables = Object.keys(spec.columns);
  const delimiter = spec.delimiter ?? ',';
  const users = new Directory(variables);
  const seen = new Map<string, number>();
  let indexOf: Record<string, number> | undefined;
  let unknownColumn = false;
  let lossy: { count: number; first: { name: string; line: number } } | undefined;
  // Each row is turned into a user as the parser reaches it: 100,000 rows never exist as records and users at once.
  const row = (record: string[], line: number): void => {
    if (!indexOf) {
      indexOf = columnsOf(record);
      return;
    }
    if (unknownColumn) return;
    const cells = variables.map((variable) => record[indexOf![variable]!] ?? '');
    const name = cells[variables.indexOf('user')] ?? '';
    if (name.trim() === '') {
      report('directory/empty-user', 'this row has no user name', line);
      return;
    }
    if (firstInvalidXmlChar(name) >= 0) {
      report('directory/invalid-character', 'this row\'s user name holds a control character, which no Mac account name has', line);
      return;
    }
    if (name.includes('?')) lossy = { count: (lossy?.count ?? 0) + 1, first: lossy?.first ?? { name, line } };
    const key = macNameKey(name);
    const other = seen.get(key);
    if (other !== undefined) {
      const { name: otherName, line: otherLine } = users.at(other);
      report('directory/duplicate-user', `user "${name}" is the same name to a Mac as "${otherName}" on line ${otherLine}`, line);
      return;
    }
    seen.set(key, users.add(cells, line));
  };
  const columnsOf = (header: string[]): Record<string, number> => {
    const found: Record<string, number> = {};
    for (const [variable, column] of Object.entries(spec.columns)) {
      found[variable] = header.indexOf(column);
      if (found[variable] >= 0) continue;
      unknownColumn = true;
      const known = `${header.slice(0, 8).join(', ')}${header.length > 8 ? ', ...' : ''}`;
      // A header read as one cell that holds another delimiter: the export is separated by that one.
      const other = header.length === 1 ? DELIMITERS.find((d) => d !== delimiter && header[0]!.includes(d)) : undefined;
      // Get-ADUser | Select-Object writes the header as typed: SamAccountName where csvde writes sAMAccountName.
      const near = other ? undefined : suggest(column, header.slice(0, 200).filter((cell) => cell.length <= 256));
      const hint = other ? `; its fields are separated by ${DELIMITER_NAMES[other]}: set directory.delimiter to ${JSON.stringify(other)}` : near ? `; did you mean ${JSON.stringify(near)}? (headers are matched exactly)` : '';
      diagnostics.push({
        code: 'directory/unknown-column', severity: CODES['directory/unknown-column'],
        message: `the directory has no column "${column}" (its header has: ${known})${hint}`,
        ...atMapping(['directory', 'columns', variable]),
      });
    }
    return found;
  };

  const broken = readCsv(decoded.text, row, delimiter);
  if (broken) {
    report('directory/unreadable', `not a valid CSV file: ${broken.message}`, broken.line);
    return { diagnostics };
  }
  if (!indexOf) {
    report('directory/unreadable', 'the file is empty; a header row is expected');
    return { diagnostics };
  }
  // An export whose filter matched nobody (a wrong OU, say) still has its header: the build would go on with
  // no per-user profile and say nothing.
  if (users.size === 0 && diagnostics.length === 0) report('directory/no-users', 'the directory has a header row and no users, so no per-user profile is written; check the export\'s filter', 1);
  // No Active Directory account name holds "?" (nor most others): an export that wrote it lost letters.
  if (lossy) {
    const { count, first } = lossy;
    report('directory/lossy-export', `${count === 1 ? 'a user name holds' : `${count} user names hold`} "?", as "${first.name}" does: Windows PowerShell's Export-Csv without -Encoding writes ASCII and turns accented letters into "?"; export again with -Encoding UTF8`, first.line);
  }
  return diagnostics.some((d) => d.severity === 'error') ? { diagnostics } : { users, diagnostics };
}
