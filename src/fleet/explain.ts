import { describe } from '../audit/audit.js';
import type { Catalog } from '../catalog/catalog.js';
import type { KeyPath } from '../diagnostics/diagnostic.js';
import { locate, type YamlSource } from '../source/yaml-source.js';
import { macNameKey } from '../directory/names.js';
import { exemptionEnd } from './exemptions.js';
import type { Fleet, Group, User } from './model.js';
import { render } from './templates.js';
import { groupOf, renderPolicy } from './users.js';

/** Where fleet.yaml wrote something: its line and column, and whether the base policy or a group did. */
export interface Origin {
  line: number;
  column: number;
  from: string;
}

export interface Explanation {
  /** The user as the directory has them (with their CSV line), or undefined for a group's or the base policy. */
  user?: { name: string; line: number; known: boolean };
  group: { name: string; origin: Origin } | null;
  settings: { domain: string; key: string; manage: string; value: string; template?: string; origin: Origin }[];
  accounts: { type: string; host: string; user: string | null; authentication: string; origin: Origin }[];
  exemptions: { reason: string; expires: string; domain?: string; key?: string; origin: Origin }[];
}

/**
 * Where each setting a user (or a group, or the base policy) gets comes from: the value as rendered for
 * them, how it is managed, and the line of fleet.yaml that set it, the base policy's or their group's;
 * with their iChat accounts and the exemptions in force at `now` that name them or their group. A user the
 * directory does not know gets the base policy and no per-user values, as build and audit give them.
 */
export function explain(fleet: Fleet, source: YamlSource, catalog: Catalog, who: { user?: User; unknownUser?: string; group?: Group }, now: Date): Explanation {
  const origin = (keyPath: KeyPath): Origin => ({ ...locate(source, keyPath), from: keyPath[0] === 'groups' ? `group ${String(keyPath[1])}` : 'base' });
  const group = who.user ? groupOf(fleet, who.user) : who.group;
  const unrendered = group?.policy ?? fleet.base;
  const policy = who.user ? renderPolicy(unrendered, who.user) : unrendered;
  const settings = [...policy].flatMap(([domain, keys]) => [...keys.values()].map((setting) => {
    const template = unrendered.get(domain)?.get(setting.key);
    return {
      domain, key: setting.key, manage: setting.manage, value: describe(catalog, domain, setting.key, setting.value),
      ...(template?.template && { template: String(template.value) }),
      origin: origin(setting.keyPath),
    };
  }));
  const accounts = (who.user ? fleet.accounts : []).map((account) => ({
    type: account.type, host: account.host, authentication: account.authentication,
    user: account.user === undefined ? null : render(account.user, who.user!.values),
    origin: origin(account.keyPath),
  }));
  const name = who.user?.name ?? who.unknownUser;
  // An exemption that names a Mac is not shown: which Mac a user works on is the pull's to say.
  const exemptions = fleet.exemptions
    .filter((e) => e.host === undefined && now.getTime() < exemptionEnd(e)
      && (e.user === undefined || (name !== undefined && macNameKey(e.user) === macNameKey(name)))
      && (e.group === undefined || e.group === group?.name))
    .map((e) => ({ reason: e.reason, expires: e.expires, ...(e.domain && { domain: e.domain }), ...(e.key && { key: e.key }), origin: origin(e.keyPath) }));
  return {
    ...(name !== undefined && { user: { name, line: who.user?.line ?? 0, known: who.user !== undefined } }),
    group: group ? { name: group.name, origin: origin(group.keyPath) } : null,
    settings, accounts, exemptions,
  };
}
