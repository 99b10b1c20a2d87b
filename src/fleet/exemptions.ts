import { CODES, type Code, type Diagnostic, type KeyPath } from '../diagnostics/diagnostic.js';
import { macNameKey } from '../directory/names.js';
import { locate, type YamlSource } from '../source/yaml-source.js';
import type { Exemption, Fleet } from './model.js';

const DAY = 86_400_000;

/** When an exemption stops applying: the end of its last day (UTC); NaN for a day that does not exist (2027-02-30). */
export function exemptionEnd(exemption: Exemption): number {
  const start = Date.parse(`${exemption.expires}T00:00:00Z`);
  return Number.isNaN(start) || new Date(start).toISOString().slice(0, 10) !== exemption.expires ? NaN : start + DAY;
}

/** The exemptions whose last day has passed at `now`: their findings are back in the audit. */
export function expiredExemptions(fleet: Fleet, source: YamlSource, now: Date): Diagnostic[] {
  const code: Code = 'exemption/expired';
  return fleet.exemptions.filter((e) => exemptionEnd(e) <= now.getTime()).map((e) => {
    const keyPath: KeyPath = [...e.keyPath, 'expires'];
    return { code, severity: CODES[code], message: 'this exemption\'s last day has passed, so the audit reports its findings again: renew it or remove it', file: source.file, keyPath, ...locate(source, keyPath) };
  });
}

/** What an exemption is matched with: a finding's whose and what. */
export interface Exempted {
  host: string | null;
  user: string | null;
  group: string | null;
  domain: string | null;
  key: string | null;
}

/**
 * Whether a finding is one that an exemption in force at `now` leaves out of the audit; undefined when none
 * is in force. Exemptions are found by whom they name (a report may hold 300,000 findings, a policy many
 * exemptions), then held to the rest.
 */
export function exemptAt(exemptions: readonly Exemption[], now: Date): ((finding: Exempted) => boolean) | undefined {
  const byWhom = new Map<string, Exemption[]>();
  for (const e of exemptions) {
    if (!(now.getTime() < exemptionEnd(e))) continue;
    const whom = e.host !== undefined ? hostKey(e.host) : e.user !== undefined ? userKey(e.user) : groupKey(e.group!);
    byWhom.set(whom, [...(byWhom.get(whom) ?? []), e]);
  }
  if (byWhom.size === 0) return undefined;
  const covers = (e: Exemption, f: Exempted) =>
    (e.host === undefined || (f.host !== null && hostKey(f.host) === hostKey(e.host)))
    && (e.user === undefined || (f.user !== null && userKey(f.user) === userKey(e.user)))
    && (e.group === undefined || f.group === e.group)
    && (e.domain === undefined || f.domain === e.domain)
    && (e.key === undefined || f.key === e.key);
  return (f) => [f.host !== null && hostKey(f.host), f.user !== null && userKey(f.user), f.group !== null && groupKey(f.group)]
    .some((whom) => whom !== false && byWhom.get(whom)?.some((e) => covers(e, f)));
}

const hostKey = (host: string) => `host:${host.toLowerCase()}`;
const userKey = (user: string) => `user:${macNameKey(user)}`;
const groupKey = (group: string) => `group:${group}`;
