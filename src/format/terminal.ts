/** Wraps text in an ANSI SGR colour when `on` (stdout or stderr is a terminal and NO_COLOR is not set). */
export const paint = (on: boolean, code: number, text: string) => (on ? `\u001b[${code}m${text}\u001b[0m` : text);

/**
 * Text for a terminal, with every control character (C0, DEL, C1) and bidirectional formatting character
 * shown as a `\uXXXX` escape. Keys, values, host and user names come from pulled plists and folder names
 * an untrusted user controls: printed raw, `\x1b[1A\x1b[2K` would erase the line above (hiding a finding
 * from the admin), and U+202E would show a line's text reversed.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escape);
}

/**
 * JSON.stringify, with the C1 controls and bidirectional characters it leaves raw escaped too (it escapes
 * C0): the same data to a parser, and nothing a terminal (xterm reads a UTF-8 U+009B as CSI) acts on when
 * the report is printed rather than piped.
 */
export function jsonText(value: unknown): string {
  return `${escapeBeyondC0(JSON.stringify(value, null, 2))}\n`;
}

/** C1 controls and bidirectional characters as `\uXXXX`: right inside a JSON string or a YAML double-quoted scalar. */
export function escapeBeyondC0(text: string): string {
  return text.replace(UNPRINTABLE_BEYOND_C0, escape);
}

const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** Outside strings JSON text is ASCII, and its line breaks there are layout: C0 is JSON.stringify's to escape. */
const UNPRINTABLE_BEYOND_C0 = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const escape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
