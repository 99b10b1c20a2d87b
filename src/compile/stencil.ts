import { escapeXmlText } from '../plist/write-xml.js';
import { uuidV5 } from './identity.js';

/** Names a payload or a profile: its PayloadUUID, from its identifier and the text that stands for its content. */
export type Identify = (identifier: string, text: string) => string;

/** A PayloadUUID that changes exactly when the identifier or the content does (see uuidV5). */
export const byContent: Identify = (identifier, text) => uuidV5(`${identifier}\n${text}`);

// A slot is U+E000 and a private-use character that numbers it: characters XML carries as they are, so a
// slot comes out of the writer unchanged, wherever in a string it sits.
const MARK = '\uE000';
const FIRST = 0xe001;
const slot = (index: number): string => MARK + String.fromCharCode(FIRST + index);

/** Literal text, or the number of the slot whose value goes there. */
type Part = string | number;

/**
 * A user's profile as text with slots for what differs between the users of a group: each directory value
 * (XML-escaped), the user's safe name, and the PayloadUUIDs, which hash text that holds those values. It is
 * recorded once by running the real profile code on a user whose values are slots, so the two cannot
 * drift apart; filling it for a user is then a few joins and hashes instead of building and serialising
 * every payload again (which was most of what a 100,000-user build cost).
 */
export class Stencil {
  private readonly variables: readonly string[];
  /** What each UUID hashes, in the order they were asked for; the last is the profile's own. */
  private readonly hashed: Part[][];
  private readonly document: Part[];

  private constructor(variables: readonly string[], hashed: Part[][], document: Part[]) {
    this.variables = variables;
    this.hashed = hashed;
    this.document = document;
  }

  /**
   * `make` writes the profile of a user with these values and safe name, naming each payload, then the
   * profile, with `identify`. The values and the name must reach the text only as XML string content,
   * and the name only as itself (a safe name needs no escaping).
   */
  static record(variables: readonly string[], make: (values: Record<string, string>, name: string, identify: Identify) => string): Stencil {
    const values = Object.fromEntries(variables.map((variable, j) => [variable, slot(j)]));
    const hashed: string[] = [];
    const identify: Identify = (identifier, text) => {
      hashed.push(`${identifier}\n${text}`);
      return slot(variables.length + hashed.length);
    };
    const document = make(values, slot(variables.length), identify);
    return new Stencil(variables, hashed.map(parts), parts(document));
  }

  /** The profile's text and UUID for this user, or undefined when a value cannot be written to XML. */
  fill(values: Readonly<Record<string, string>>, name: string): { text: string; uuid: string } | undefined {
    const slots: string[] = [];
    for (const variable of this.variables) {
      const text = escapeXmlText(values[variable]!);
      if (text === undefined) return undefined;
      slots.push(text);
    }
    slots.push(name);
    for (const h of this.hashed) slots.push(uuidV5(join(h, slots)));
    return { text: join(this.document, slots), uuid: slots.at(-1)! };
  }
}

function parts(text: string): Part[] {
  const out: Part[] = [];
  let from = 0;
  for (let at = text.indexOf(MARK); at >= 0; at = text.indexOf(MARK, from)) {
    out.push(text.slice(from, at), text.charCodeAt(at + 1) - FIRST);
    from = at + 2;
  }
  out.push(text.slice(from));
  return out;
}

function join(parts: readonly Part[], slots: readonly string[]): string {
  let out = '';
  for (const part of parts) out += typeof part === 'string' ? part : slots[part];
  return out;
}
