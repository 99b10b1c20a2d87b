import { CODES, type Code, type Diagnostic } from '../diagnostics/diagnostic.js';
import { firstInvalidXmlChar } from '../source/utf8.js';
import type { Fleet, Group, Policy, Setting, User } from './model.js';
import { QUALIFIED_LOGON, get } from './rules.js';
import { isTemplate, render, templateVariables } from './templates.js';

const DAEMON = 'com.microsoft.MessengerDaemon';
/** Per-user problems can number in the thousands; the report shows this many of each, then a count. */
export const REPORT_CAP = 20;

/** The user's group, if fleet.yaml names it; users of any other group get the base policy. */
export function groupOf(fleet: Fleet, user: User): Group | undefined {
  return user.group === undefined ? undefined : fleet.groups.find((g) => g.name === user.group);
}

export function policyFor(fleet: Fleet, user: User): Policy {
  return groupOf(fleet, user)?.policy ?? fleet.base;
}

/** The policy with every template rendered for this user; a domain without templates is kept as it is. */
export function renderPolicy(policy: Policy, user: User): Policy {
  const rendered = new Map<string, ReadonlyMap<string, Setting>>();
  for (const [domain, settings] of policy) {
    if (![...settings.values()].some((s) => s.template)) {
      rendered.set(domain, settings);
      continue;
    }
    const out = new Map<string, Setting>();
    for (const [key, setting] of settings) {
      out.set(key, setting.template ? { ...setting, value: render(String(setting.value), user.values), template: false } : setting);
    }
    rendered.set(domain, out);
  }
  return rendered;
}

/**
 * The checks that need the users: groups fleet.yaml does not name, and every rule whose input is a rendered
 * template (empty cells, characters a plist cannot hold, Kerberos logon names), reported at the CSV line.
 */
export function checkUsers(fleet: Fleet, users: Iterable<User>, file: string): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const counts = new Map<Code, { count: number; firstOmitted?: number }>();
  const report = (code: Code, message: string, line: number) => {
    const seen = counts.get(code) ?? { count: 0 };
    seen.count++;
    if (seen.count <= REPORT_CAP) diagnostics.push({ code, severity: CODES[code], message, file, line, column: 1 });
    else seen.firstOmitted ??= line;
    counts.set(code, seen);
  };

  const unknownGroups = new Map<string, number>();
  const groupNames = new Set(fleet.groups.map((g) => g.name));
  const accountTemplates = fleet.accounts.filter((a) => a.user !== undefined && isTemplate(a.user));
  // What a policy has to check, worked out once per group rather than once per user.
  const checks = new Map<Policy, { templated: { what: string; text: string }[]; kerberosLogon?: string }>();
  const checksOf = (policy: Policy) => {
    let made = checks.get(policy);
    if (!made) {
      const templated: { what: string; text: string }[] = [];
      for (const settings of policy.values()) {
        for (const s of settings.values()) if (s.template) templated.push({ what: s.key, text: String(s.value) });
      }
      for (const account of accountTemplates) templated.push({ what: `the ${account.type} account's user`, text: account.user! });
      const logon = get(policy, DAEMON, 'UserLogonName');
      made = { templated, ...(get(policy, DAEMON, 'EnableKerberosLogin')?.value === true && logon?.template && { kerberosLogon: String(logon.value) }) };
      checks.set(policy, made);
    }
    return made;
  };
  for (const user of users) {
    if (user.group !== undefined && !groupNames.has(user.group)) unknownGroups.set(user.group, (unknownGroups.get(user.group) ?? 0) + 1);
    const { templated, kerberosLogon } = checksOf(policyFor(fleet, user));
    let clean = true;
    for (const { what, text } of templated) {
      const value = render(text, user.values);
      for (const variable of templateVariables(text)) {
        if (user.values[variable] === '') {
          report('directory/empty-value', `user ${user.name}: ${what} uses {{${variable}}}, but the "${fleet.directory!.columns[variable]}" column is empty`, user.line);
          clean = false;
        }
      }
      if (firstInvalidXmlChar(value) >= 0) {
        report('directory/invalid-character', `user ${user.name}: ${what} would hold a character a plist cannot carry`, user.line);
        clean = false;
      }
    }
    if (clean && kerberosLogon !== undefined) {
      const value = render(kerberosLogon, user.values);
      if (!QUALIFIED_LOGON.test(value)) {
        report('rule/kerberos-logon-name', `user ${user.name}: UserLogonName "${value}" is not fully qualified (user@realm) although EnableKerberosLogin is on`, user.line);
      }
    }
  }

  for (const [code, { count, firstOmitted }] of counts) {
    if (firstOmitted !== undefined) {
      diagnostics.push({ code, severity: CODES[code], message: `... and ${count - REPORT_CAP} more users with this problem, from this line on`, file, line: firstOmitted, column: 1 });
    }
  }
  if (unknownGroups.size) {
    const list = [...unknownGroups].sort(([a], [b]) => (a < b ? -1 : 1)).map(([g, n]) => `${g} (${n})`).join(', ');
    const total = [...unknownGroups.values()].reduce((a, b) => a + b, 0);
    diagnostics.push({ code: 'directory/unknown-group', severity: CODES['directory/unknown-group'], message: `${total} users are in groups fleet.yaml does not name and get the base policy: ${list}`, file });
  }
  return diagnostics;
}
