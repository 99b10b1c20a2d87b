import { parse } from 'csv-parse/sync';
import { CODES, type Code, type Diagnostic, type KeyPath } from '../diagnostics/diagnostic.js';
import type { DirectorySpec, User } from '../fleet/model.js';
import { decodeUtf8, firstInvalidXmlChar } from '../source/utf8.js';
import { macNameKey } from './names.js';

export const MAX_DIRECTORY_BYTES = 256 * 1024 * 1024;

export interface DirectoryResult {
  users?: User[];
  diagnostics: Diagnostic[];
}

/**
 * Reads a directory export as Active Directory writes it: a header row, quoted fields holding commas,
 * quotes and line breaks, UTF-8 with or without BOM, CRLF or LF. Problems name the CSV line; a column the
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
  const decoded = decodeUtf8(bytes);
  if ('invalidAt' in decoded) {
    diagnostics.push({ code: 'directory/unreadable', severity: CODES['directory/unreadable'], message: `invalid UTF-8 at byte offset ${decoded.invalidAt}; export the directory as UTF-8`, file, offset: decoded.invalidAt });
    return { diagnostics };
  }

  const lineAt = lineCounter(bytes);
  const users: User[] = [];
  const seen = new Map<string, User>();
  let indexOf: Record<string, number> | undefined;
  let columns: [string, number][] = [];
  let unknownColumn = false;
  let start = 0;
  // Each row is turned into a user as the parser reaches it (on_record answers null, so the parser keeps
  // nothing): 100,000 rows never exist as records and users at once.
  const row = (record: string[], info: { bytes: number }): null => {
    const line = lineAt(start);
    start = info.bytes;
    if (!indexOf) {
      indexOf = columnsOf(record);
      columns = Object.entries(indexOf);
      return null;
    }
    if (unknownColumn) return null;
    const values = Object.fromEntries(columns.map(([variable, index]) => [variable, record[index] ?? '']));
    const name = values.user ?? '';
    if (name.trim() === '') {
      report('directory/empty-user', 'this row has no user name', line);
      return null;
    }
    if (firstInvalidXmlChar(name) >= 0) {
      report('directory/invalid-character', 'this row\'s user name holds a control character, which no Mac account name has', line);
      return null;
    }
    const key = macNameKey(name);
    const other = seen.get(key);
    if (other) {
      report('directory/duplicate-user', `user "${name}" is the same name to a Mac as "${other.name}" on line ${other.line}`, line);
      return null;
    }
    const user: User = { name, values, line, ...(values.group && { group: values.group }) };
    seen.set(key, user);
    users.push(user);
    return null;
  };
  const columnsOf = (header: string[]): Record<string, number> => {
    const found: Record<string, number> = {};
    for (const [variable, column] of Object.entries(spec.columns)) {
      found[variable] = header.indexOf(column);
      if (found[variable] >= 0) continue;
      unknownColumn = true;
      const known = `${header.slice(0, 8).join(', ')}${header.length > 8 ? ', ...' : ''}`;
      diagnostics.push({
        code: 'directory/unknown-column', severity: CODES['directory/unknown-column'],
        message: `the directory has no column "${column}" (its header has: ${known})`,
        ...atMapping(['directory', 'columns', variable]),
      });
    }
    return found;
  };

  try {
    // on_record's context carries the byte count; `info: true` would build an object per row for it.
    parse(bytes, { bom: true, skip_empty_lines: true, relax_column_count: false, on_record: (record: string[], context: { bytes: number }) => row(record, context) });
  } catch (error) {
    const { lines, message } = error as { lines?: number; message: string };
    report('directory/unreadable', `not a valid CSV file: ${message.replace(/^[^:]*: /, '').split(/ at line \d+/)[0]}`, lines);
    return { diagnostics };
  }
  if (!indexOf) {
    report('directory/unreadable', 'the file is empty; a header row is expected');
    return { diagnostics };
  }
  return diagnostics.length ? { diagnostics } : { users, diagnostics };
}

/**
 * Line numbers from byte offsets: csv-parse's own line count drifts on CRLF inside quoted fields, while
 * its byte count is exact. Blank lines before a record are skipped, as the parser skips them.
 */
function lineCounter(bytes: Buffer): (offset: number) => number {
  let line = 1;
  let at = 0;
  return (offset) => {
    while (offset < bytes.length && (bytes[offset] === 0x0a || bytes[offset] === 0x0d)) offset++;
    for (; at < offset; at++) {
      if (bytes[at] === 0x0a || (bytes[at] === 0x0d && bytes[at + 1] !== 0x0a)) line++;
    }
    return line;
  };
}
