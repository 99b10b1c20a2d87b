import { decodeText, firstInvalidXmlChar } from '../source/utf8.js';
import { Real, type PlistValue } from './value.js';

// Hand-written rather than plist.parse(): plist 5.0.0 reads <integer>12abc as 12 and 0x10 as 0, drops
// keys split by comments, lets a key with no value become "", overflows the stack at 5,000 levels, and its
// xmldom parser keeps DOCTYPE entities as text and only logs errors (shared/guides/hostile-inputs.md, F).
// This reader takes the rules of libplist and CPython's plistlib: no entity but XML's five and character
// references, depth at most 512, and every value exactly as Apple would read it or an error with its line.

export class PlistError extends Error {
  readonly offset: number | undefined;
  readonly line: number | undefined;
  constructor(message: string, where: { offset?: number; line?: number } = {}) {
    super(message);
    this.offset = where.offset;
    this.line = where.line;
  }
}

export interface ReadResult {
  value: PlistValue;
  format: 'xml' | 'binary';
  /** The line of each key of the top dictionary, where an audit's findings point (XML only). */
  keyLines: Map<string, number>;
  /** Keys that appear twice in one dictionary; the first value is kept, as CoreFoundation's reader keeps it. */
  duplicateKeys: { path: string[]; line?: number }[];
}

export const MAX_DEPTH = 512;
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
/** A plist's element names, found without slicing a new string for every tag read. */
const TAG_NAMES = ['key', 'string', 'integer', 'true', 'false', 'dict', 'array', 'real', 'date', 'data', 'plist'];

/** The document as text: UTF-8 (BOM or not) or UTF-16 with a BOM, refusing invalid bytes and characters. */
function decodeXml(bytes: Uint8Array): string {
  const decoded = decodeText(bytes);
  if ('invalidAt' in decoded) throw new PlistError(`${decoded.problem} at byte offset ${decoded.invalidAt}`, { offset: decoded.invalidAt });
  const { text } = decoded;
  const bad = firstInvalidXmlChar(text);
  if (bad >= 0) {
    const line = text.slice(0, bad).split('\n').length;
    throw new PlistError(`character U+${text.charCodeAt(bad).toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`, { line });
  }
  return text;
}

export function readXmlPlist(bytes: Uint8Array): ReadResult {
  return new XmlReader(decodeXml(bytes)).read();
}

type Token = { kind: 'open' | 'close' | 'empty'; name: string; at: number } | { kind: 'text'; text: string; at: number } | { kind: 'end'; at: number };

class XmlReader {
  private pos = 0;
  private readonly lineStarts: number[] = [0];
  private readonly keyLines = new Map<string, number>();
  private readonly duplicateKeys: ReadResult['duplicateKeys'] = [];
  private peeked: Token | undefined;
  private readonly text: string;
  /** Where ampersandFrom last found an '&' (or the end); -1 before the first search. */
  private ampersand = -1;
  /** The keys and array indexes that lead to the value being read. */
  private readonly path: string[] = [];

  constructor(text: string) {
    this.text = text;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
  }

  read(): ReadResult {
    this.prolog();
    // Checked before a token is read: text there (a JSON or text file) would be decoded first, and refused for its '&'.
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) !== 0x3c) this.fail('the document does not start with <plist>', this.pos);
    const root = this.next();
    if (root.kind !== 'open' || root.name !== 'plist') this.fail('the document does not start with <plist>', root.at);
    const value = this.value(1);
    const close = this.next();
    if (close.kind !== 'close' || close.name !== 'plist') this.fail('a <plist> holds exactly one value', close.at);
    const end = this.next();
    if (end.kind !== 'end') this.fail('content after </plist>', end.at);
    return { value, format: 'xml', keyLines: this.keyLines, duplicateKeys: this.duplicateKeys };
  }

  private prolog(): void {
    const decl = /^\s*<\?xml([^?]*)\?>/.exec(this.text);
    if (decl) {
      const encoding = /encoding\s*=\s*["']([^"']+)["']/i.exec(decl[1]!)?.[1];
      if (encoding && !/^(utf-8|utf-16|utf-16le|utf-16be|us-ascii)$/i.test(encoding)) this.fail(`unsupported encoding "${encoding.slice(0, 40)}"; plists are UTF-8 or UTF-16`, 0);
      this.pos = decl[0].length;
    }
    for (;;) {
      this.skipMisc();
      if (this.text.startsWith('<!DOCTYPE', this.pos)) {
        const end = this.text.indexOf('>', this.pos);
        const doctype = this.text.slice(this.pos, end < 0 ? undefined : end + 1);
        // Entity declarations (billion laughs, SYSTEM "file:///etc/passwd") are refused, never expanded or fetched.
        if (end < 0 || doctype.includes('[')) this.fail('DOCTYPE with an internal subset: entity declarations are not supported', this.pos);
        this.pos = end + 1;
        continue;
      }
      return;
    }
  }

  /**
   * Space, comments and processing instructions (`<?target ...?>`): what may stand between elements, and what
   * CoreFoundation and expat pass over there. Inside a value's text only comments are (see textContent).
   */
  private skipMisc(): void {
    for (;;) {
      while (this.pos < this.text.length && isSpace(this.text.charCodeAt(this.pos))) this.pos++;
      if (this.text.startsWith('<!--', this.pos)) {
        const end = this.text.indexOf('-->', this.pos + 4);
        if (end < 0) this.fail('unterminated comment', this.pos);
        this.pos = end + 3;
      } else if (this.text.startsWith('<?', this.pos)) {
        const end = this.text.indexOf('?>', this.pos + 2);
        if (end < 0) this.fail('unterminated processing instruction', this.pos);
        this.pos = end + 2;
      } else {
        return;
      }
    }
  }

  private next(): Token {
    if (this.peeked) {
      const token = this.peeked;
      this.peeked = undefined;
      return token;
    }
    this.skipMisc();
    const at = this.pos;
    if (this.pos >= this.text.length) return { kind: 'end', at };
    // By character code, '<' then '!': a CDATA section is text; anything else of the kind is refused.
    const second = this.text.charCodeAt(this.pos + 1);
    if (this.text.charCodeAt(this.pos) !== 0x3c || (second === 0x21 && this.text.startsWith('<![CDATA[', this.pos))) return { kind: 'text', text: this.textContent(), at };
    if (second === 0x21) this.fail('unexpected markup', at);
    const end = this.text.indexOf('>', this.pos);
    if (end < 0) this.fail('unterminated tag', at);
    this.pos = end + 1;
    return this.tag(at, end);
  }

  /**
   * The tag between `<` at `at` and `>` at `end`: `<name>`, `</name>` or `<name/>`, a name of ASCII
   * letters, and attributes (ignored, as plistlib ignores them) after a space. A scan by character code:
   * a regular expression per tag made most of what reading a preference file allocates.
   */
  private tag(at: number, end: number): Token {
    const text = this.text;
    const close = text.charCodeAt(at + 1) === 0x2f;
    let i = close ? at + 2 : at + 1;
    const nameStart = i;
    while (i < end && isLetter(text.charCodeAt(i))) i++;
    const name = knownTag(text, nameStart, i) ?? text.slice(nameStart, i);
    let selfClosing = false;
    if (i < end && isSpace(text.charCodeAt(i))) {
      if (text.lastIndexOf('<', end) > at) this.fail('malformed tag', at);
      selfClosing = text.charCodeAt(end - 1) === 0x2f;
    } else if (i === end - 1 && text.charCodeAt(i) === 0x2f) {
      selfClosing = true;
    } else if (i !== end) {
      this.fail('malformed tag', at);
    }
    if (name === '' || (close && selfClosing)) this.fail('malformed tag', at);
    return { kind: close ? 'close' : selfClosing ? 'empty' : 'open', name, at };
  }

  private peek(): Token {
    this.peeked ??= this.next();
    return this.peeked;
  }

  /** Character data up to the next tag: CDATA, comments and references joined into one string. */
  private textContent(): string {
    let out = '';
    while (this.pos < this.text.length) {
      if (this.text.startsWith('<![CDATA[', this.pos)) {
        const end = this.text.indexOf(']]>', this.pos);
        if (end < 0) this.fail('unterminated CDATA', this.pos);
        out += this.text.slice(this.pos + 9, end);
        this.pos = end + 3;
      } else if (this.text.startsWith('<!--', this.pos)) {
        const end = this.text.indexOf('-->', this.pos + 4);
        if (end < 0) this.fail('unterminated comment', this.pos);
        this.pos = end + 3;
      } else if (this.text[this.pos] === '<') {
        break;
      } else if (this.text[this.pos] === '&') {
        out += this.reference();
      } else {
        const start = this.pos;
        this.pos = Math.min(this.indexFrom('<', start), this.ampersandFrom(start));
        out += this.text.slice(start, this.pos);
      }
    }
    return out;
  }

  private indexFrom(char: string, from: number): number {
    const at = this.text.indexOf(char, from);
    return at < 0 ? this.text.length : at;
  }

  /** The next '&' from `from` on, found again only once passed: most documents have none, and a search per text would read to the end each time. */
  private ampersandFrom(from: number): number {
    if (this.ampersand < from) this.ampersand = this.indexFrom('&', from);
    return this.ampersand;
  }

  private reference(): string {
    const at = this.pos;
    const end = this.text.indexOf(';', this.pos);
    if (end < 0 || end - this.pos > 12) this.fail('malformed entity reference', at);
    const name = this.text.slice(this.pos + 1, end);
    this.pos = end + 1;
    if (Object.hasOwn(ENTITIES, name)) return ENTITIES[name]!;
    const numeric = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(name);
    if (!numeric) this.fail(`undefined entity "&${name.slice(0, 20)};"`, at);
    const code = numeric![1] !== undefined ? parseInt(numeric![1], 16) : parseInt(numeric![2]!, 10);
    const allowed = code === 9 || code === 10 || code === 13 || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
    if (!allowed) this.fail(`character reference &${name}; is not an XML character`, at);
    return String.fromCodePoint(code);
  }

  private value(depth: number): PlistValue {
    const token = this.next();
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`, token.at);
    if (token.kind === 'empty') {
      switch (token.name) {
        case 'true': return true;
        case 'false': return false;
        case 'dict': return Object.create(null) as Record<string, PlistValue>;
        case 'array': return [];
        case 'string': return '';
        case 'data': return new Uint8Array(0);
      }
      this.fail(`<${token.name}/> is not a plist value`, token.at);
    }
    if (token.kind !== 'open') this.fail(token.kind === 'text' ? 'text where a value was expected' : 'a value was expected', token.at);
    switch (token.name) {
      case 'dict': return this.dict(depth);
      case 'array': {
        const items: PlistValue[] = [];
        while (!this.closes('array')) {
          this.path.push(String(items.length));
          items.push(this.value(depth + 1));
          this.path.pop();
        }
        return items;
      }
      case 'true':
      case 'false':
        this.expectClose(token.name);
        return token.name === 'true';
    }
    // Character data is read exactly as it stands: leading and trailing spaces are part of a string.
    const text = this.textContent();
    this.expectClose(token.name);
    return this.scalar(token.name, text, token.at);
  }

  private dict(depth: number): PlistValue {
    const dict = Object.create(null) as Record<string, PlistValue>;
    while (!this.closes('dict')) {
      const key = this.next();
      if (key.kind !== 'open' || key.name !== 'key') this.fail('a dictionary holds <key> then a value, in pairs', key.at);
      const name = this.textContent();
      this.expectClose('key');
      if (this.peek().kind === 'close') this.fail(`key "${name.slice(0, 60)}" has no value`, this.peek().at);
      const line = this.lineOf(key.at);
      this.path.push(name);
      const value = this.value(depth + 1);
      this.path.pop();
      if (Object.hasOwn(dict, name)) {
        this.duplicateKeys.push({ path: [...this.path, name], line });
        continue;
      }
      if (this.path.length === 0) this.keyLines.set(name, line);
      dict[name] = value;
    }
    return dict;
  }

  private closes(name: string): boolean {
    const token = this.peek();
    if (token.kind === 'close' && token.name === name) {
      this.next();
      return true;
    }
    if (token.kind === 'end') this.fail(`<${name}> is not closed`, token.at);
    return false;
  }

  private expectClose(name: string): void {
    const token = this.next();
    if (token.kind !== 'close' || token.name !== name) this.fail(`expected </${name}>`, token.at);
  }

  private scalar(tag: string, text: string, at: number): PlistValue {
    switch (tag) {
      case 'string':
        return text;
      case 'integer': {
        const t = text.trim();
        if (!/^[+-]?(\d+|0[xX][0-9A-Fa-f]+)$/.test(t)) this.fail(`<integer>${t.slice(0, 30)}</integer> is not an integer`, at);
        if (t.length <= 15 && !/[xX]/.test(t)) return Number(t) || 0; // at most 15 digits: exact as a double (|| 0: no -0)
        const negative = t.startsWith('-');
        const magnitude = BigInt(t.replace(/^[+-]/, ''));
        const value = negative ? -magnitude : magnitude;
        if (value < -(2n ** 63n) || value > 2n ** 64n - 1n) this.fail('integer outside the 64-bit range', at);
        return Number.isSafeInteger(Number(value)) ? Number(value) : value;
      }
      case 'real': {
        const t = text.trim();
        if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) this.fail(`<real>${t.slice(0, 30)}</real> is not a finite number`, at);
        const value = Number(t);
        if (!Number.isFinite(value)) this.fail('real out of range', at);
        return new Real(value);
      }
      case 'date': {
        const t = text.trim();
        const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/.exec(t);
        const date = m ? utcDate(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : undefined;
        if (!m || !date || date.getUTCDate() !== +m[3]! || date.getUTCMonth() !== +m[2]! - 1 || +m[4]! > 23 || +m[5]! > 59 || +m[6]! > 59) {
          this.fail(`<date>${t.slice(0, 30)}</date> is not a date`, at);
        }
        return date!;
      }
      case 'data': {
        const compact = text.replace(/\s+/g, '');
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.replace(/=+$/, '').length % 4 === 1) this.fail('<data> is not base64', at);
        return new Uint8Array(Buffer.from(compact, 'base64'));
      }
    }
    return this.fail(`<${tag}> is not a plist value`, at);
  }

  private lineOf(offset: number): number {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  }

  private fail(message: string, at: number): never {
    throw new PlistError(message, { line: this.lineOf(at) });
  }
}

/** What /\s/ matches, without a one-character string for each character tested. */
function isSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d) || (code > 0x7f && /\s/.test(String.fromCharCode(code)));
}

function knownTag(text: string, start: number, end: number): string | undefined {
  for (const name of TAG_NAMES) if (name.length === end - start && text.startsWith(name, start)) return name;
  return undefined;
}

function isLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

/** Date.UTC takes the years 0 to 99 for 1900 to 1999; setUTCFullYear takes every year as it is. */
function utcDate(year: number, month: number, day: number, hours: number, minutes: number, seconds: number): Date {
  const date = new Date(Date.UTC(2000, 0, 1, hours, minutes, seconds));
  date.setUTCFullYear(year, month, day);
  return date;
}
