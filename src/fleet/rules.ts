import { loadPorts } from '../catalog/ports.js';
import { CODES, type Code, type Diagnostic, type KeyPath } from '../diagnostics/diagnostic.js';
import { locate, type YamlSource } from '../source/yaml-source.js';
import { exemptionEnd } from './exemptions.js';
import type { Fleet, Policy, Setting } from './model.js';
import { isTemplate, templateProblem } from './templates.js';

type Report = (code: Code, message: string, keyPath: KeyPath, on?: 'key' | 'value') => void;

const DAEMON = 'com.microsoft.MessengerDaemon';
const MIN_PORTS = 3; // seed 004, "To set the range of ports": "The minimum number of ports required in the range is 3."

/** Every fixed port of profiles/ports.yaml, for keeping the SIP callback range clear of them. */
function wellKnownPorts(): { from: number; to: number; service: string }[] {
  const byRange = new Map<string, { from: number; to: number; service: string }>();
  for (const service of Object.values(loadPorts())) {
    for (const p of service.ports) {
      const key = `${p.port}-${p.to ?? p.port}`;
      const known = byRange.get(key);
      if (!known) byRange.set(key, { from: p.port, to: p.to ?? p.port, service: service.name });
      else if (!known.service.includes(service.name)) known.service += `; ${service.name}`;
    }
  }
  return [...byRange.values()].sort((a, b) => a.from - b.from);
}

/**
 * The cross-key rules of the spec, run on the base policy and on every group's merged policy. A rule that
 * fires on an inherited value reports it once, at the line that set it.
 */
export function checkRules(source: YamlSource, fleet: Fleet, data: Record<string, unknown>): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const report: Report = (code, message, keyPath, on = 'value') =>
    diagnostics.push({ code, severity: CODES[code], message, file: source.file, keyPath, ...locate(source, keyPath, on) });
  const hasTrust = Array.isArray(data.trust) && data.trust.length > 0;
  const variables = fleet.directory ? Object.keys(fleet.directory.columns) : undefined;

  for (const policy of [fleet.base, ...fleet.groups.map((g) => g.policy)]) {
    checkPortRange(policy, report);
    checkServer(policy, report);
    checkKerberos(policy, report);
    checkTransport(policy, hasTrust, report);
    for (const settings of policy.values()) {
      for (const setting of settings.values()) {
        if (setting.template) checkTemplate(String(setting.value), setting.key, setting.keyPath, variables, report);
      }
    }
  }
  checkGroupNames(fleet, report);
  checkAccounts(fleet, variables, report);
  checkSigning(fleet, report);
  checkExemptions(fleet, report);
  return diagnostics;
}

/** An exemption names whom it exempts (exempting every Mac is a change of policy) and a day that exists. */
function checkExemptions(fleet: Fleet, report: Report): void {
  for (const exemption of fleet.exemptions) {
    if (exemption.host === undefined && exemption.user === undefined && exemption.group === undefined) {
      report('exemption/unscoped', 'an exemption names a host, a user or a group; to exempt every Mac, change the policy instead', exemption.keyPath);
    } else if (Number.isNaN(exemptionEnd(exemption))) {
      report('exemption/invalid-date', 'expires is not a day of the calendar (YYYY-MM-DD)', [...exemption.keyPath, 'expires']);
    }
  }
}

function checkTemplate(text: string, what: string, keyPath: KeyPath, variables: readonly string[] | undefined, report: Report): void {
  if (!variables) {
    report('rule/template-without-directory', `${what} uses a template, which needs a directory section that names the users`, keyPath);
    return;
  }
  const problem = templateProblem(text, variables);
  if (problem) report('template/invalid', `${what}: ${problem}`, keyPath);
}

export function get(policy: Policy, domain: string, key: string): Setting | undefined {
  return policy.get(domain)?.get(key);
}

function checkPortRange(policy: Policy, report: Report): void {
  const enabled = get(policy, DAEMON, 'PortRangeEnabled');
  const min = get(policy, DAEMON, 'PortRangeMinSIPDynamicPort');
  const max = get(policy, DAEMON, 'PortRangeMaxSIPDynamicPort');
  if (enabled?.value !== 1) {
    for (const bound of [min, max]) {
      if (bound) report('rule/port-range-disabled', `${bound.key} has no effect unless PortRangeEnabled is 1`, bound.keyPath);
    }
    return;
  }
  if (!min || !max) {
    const missing = !min ? 'PortRangeMinSIPDynamicPort' : 'PortRangeMaxSIPDynamicPort';
    report('rule/port-range-incomplete', `PortRangeEnabled is 1, so ${missing} must be set too`, enabled.keyPath);
    return;
  }
  const low = min.value as number;
  const high = max.value as number;
  if (low > high) {
    report('rule/port-range-order', `PortRangeMinSIPDynamicPort (${low}) is above PortRangeMaxSIPDynamicPort (${high})`, max.keyPath);
    return;
  }
  if (high - low + 1 < MIN_PORTS) {
    report('rule/port-range-size', `the SIP port range ${low}-${high} has ${high - low + 1} port(s); the deployment guide requires at least ${MIN_PORTS}`, max.keyPath);
  }
  for (const port of wellKnownPorts()) {
    if (port.from <= high && low <= port.to) {
      const ports = port.from === port.to ? `port ${port.from}` : `ports ${port.from}-${port.to}`;
      report('rule/port-conflict', `the SIP port range ${low}-${high} overlaps ${ports} (${port.service})`, min.keyPath);
    }
  }
}

function checkServer(policy: Policy, report: Report): void {
  const mode = get(policy, DAEMON, 'RTCConfigurationMode');
  const server = get(policy, DAEMON, 'RTCServerAddress');
  if (mode?.value === 1 && (!server || server.value === '')) {
    report('rule/server-address-required', 'RTCConfigurationMode is manual (1), so RTCServerAddress must name the Live Communications Server', mode.keyPath);
  }
}

// seed 004, "Using Kerberos for Macintosh": with Kerberos "the user must type a fully qualified name in the
// User ID box, such as someone@testserver.headquarters.corp.adatum.com".
export const QUALIFIED_LOGON = /^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$/;

function checkKerberos(policy: Policy, report: Report): void {
  const kerberos = get(policy, DAEMON, 'EnableKerberosLogin');
  if (kerberos?.value !== true) return;
  const logon = get(policy, DAEMON, 'UserLogonName');
  if (!logon) {
    report('rule/kerberos-logon-name', 'EnableKerberosLogin needs UserLogonName as a fully qualified name such as someone@corp.example.com', kerberos.keyPath);
  } else if (!logon.template && !QUALIFIED_LOGON.test(String(logon.value))) {
    report('rule/kerberos-logon-name', 'UserLogonName must be fully qualified (user@realm, such as someone@corp.example.com) when EnableKerberosLogin is on', logon.keyPath);
  }
}

function checkTransport(policy: Policy, hasTrust: boolean, report: Report): void {
  const transport = get(policy, DAEMON, 'RTCTransport');
  if (hasTrust && transport?.value === 2) {
    report('rule/tcp-with-trust-anchor', 'RTCTransport is tcp (2) although trust anchors are configured for TLS; did you mean tls (4)?', transport.keyPath);
  }
}

function checkGroupNames(fleet: Fleet, report: Report): void {
  const bySlug = new Map<string, string>();
  for (const group of fleet.groups) {
    if (!group.slug) {
      report('rule/group-name-collision', `group "${group.name}" has no letters or digits to name its files with`, group.keyPath, 'key');
      continue;
    }
    const folded = group.slug.toLowerCase();
    const other = bySlug.get(folded);
    if (other !== undefined) {
      report('rule/group-name-collision', `groups "${other}" and "${group.name}" would share the file name "${group.slug}" on a Mac; rename one`, group.keyPath, 'key');
    }
    bySlug.set(folded, group.name);
  }
}

function checkAccounts(fleet: Fleet, variables: readonly string[] | undefined, report: Report): void {
  const seen = new Set<string>();
  for (const account of fleet.accounts) {
    const at = account.keyPath;
    if (!fleet.directory) {
      // Apple: account payloads install on the user channel only, so they go into per-user profiles.
      report('rule/accounts-without-directory', 'iChat accounts go into per-user profiles, which need a directory section that names the users', at, 'key');
    }
    if (account.authentication === 'kerberos' && account.password) {
      report('rule/kerberos-with-password', 'an account that signs in with Kerberos takes no password; remove it', [...at, 'password'], 'key');
    }
    if (account.type === 'aim' && account.authentication === 'kerberos') {
      report('rule/aim-kerberos', 'AIM accounts sign in with a password only (Apple: AIMAuthentication is AIMAuthPassword)', [...at, 'authentication']);
    }
    if (account.type === 'aim' && account.host !== AIM_HOST) {
      report('rule/aim-host', `Apple's schema lists only ${AIM_HOST} as the AIM host`, [...at, 'host']);
    }
    const id = `${account.type}:${account.host.toLowerCase()}`;
    if (seen.has(id)) report('rule/duplicate-account', `a second ${account.type} account for ${account.host}; each server gets one account`, at, 'key');
    seen.add(id);
    if (account.user && isTemplate(account.user) && variables) checkTemplate(account.user, 'user', [...at, 'user'], variables, report);
  }
}

const AIM_HOST = 'slogin.oscar.aol.com';

function checkSigning(fleet: Fleet, report: Report): void {
  const signing = fleet.signing;
  if (!signing) return;
  const pem = signing.certificate !== undefined || signing.key !== undefined;
  if (signing.pkcs12 !== undefined && pem) {
    report('rule/signing-identity', 'give either pkcs12, or certificate and key, not both', ['signing'], 'key');
  } else if (signing.pkcs12 === undefined && (signing.certificate === undefined || signing.key === undefined)) {
    report('rule/signing-identity', 'signing needs certificate and key, or pkcs12', ['signing'], 'key');
  }
}
