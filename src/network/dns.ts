import { CODES, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Fleet } from '../fleet/model.js';
import { get } from '../fleet/rules.js';

const DAEMON = 'com.microsoft.MessengerDaemon';

/**
 * The SRV records for automatic configuration, as a zone file that loads on its own (named-checkzone):
 * _sipinternaltls._tcp and _sip._tls for Live Communications Server when a policy uses automatic
 * configuration (the guide: the client "automatically queries for DNS SRV resource record"), and
 * _xmpp-client._tcp and _xmpp-server._tcp for each Jabber host (Kerio: "DNS records must be configured").
 * The SOA and NS records are placeholders under .invalid, marked as such.
 */
export function dnsZone(fleet: Fleet): { zone?: { name: string; text: Buffer }; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const warn = (message: string) => diagnostics.push({ code: 'network/dns', severity: CODES['network/dns'], message, file: fleet.file });
  const records: string[] = [];

  const policies = [fleet.base, ...fleet.groups.map((g) => g.policy)];
  const automatic = policies.filter((p) => get(p, DAEMON, 'RTCConfigurationMode')?.value === -1);
  if (automatic.length) {
    const servers = [...new Set(automatic.map((p) => get(p, DAEMON, 'RTCServerAddress')?.value).filter((v): v is string => typeof v === 'string' && v !== '' && !v.includes('{{')))];
    if (servers.length === 0) warn('RTCConfigurationMode is automatic, but no RTCServerAddress names the Live Communications Server the SRV records should point to; no LCS records written');
    for (const server of servers) {
      records.push('; Live Communications Server: Messenger for Mac with automatic configuration looks these up (TLS)');
      records.push(`_sipinternaltls._tcp  IN SRV 0 0 5061 ${fqdn(server)}`, `_sip._tls             IN SRV 0 0 5061 ${fqdn(server)}`);
    }
  }
  for (const host of [...new Set(fleet.accounts.filter((a) => a.type === 'jabber').map((a) => a.host))]) {
    records.push(`; XMPP (iChat Server, Kerio Connect): clients and other servers find ${host}`);
    records.push(`_xmpp-client._tcp     IN SRV 0 0 5222 ${fqdn(host)}`, `_xmpp-server._tcp     IN SRV 0 0 5269 ${fqdn(host)}`);
  }
  if (records.length === 0) return { diagnostics };
  const domain = fleet.organization.domain;
  if (!domain) {
    warn('organization.domain is not set, so no DNS zone file is written for the SRV records');
    return { diagnostics };
  }
  const text = [
    `; DNS records for automatic configuration in ${domain}, written by mdmgen from fleet.yaml.`,
    '; The SOA and NS records below are PLACEHOLDERS (under .invalid) so that this file loads on its own:',
    '; copy the SRV records into your zone, or replace the placeholders before loading it.',
    `$ORIGIN ${domain}.`,
    `$TTL ${fleet.network.ttl}`,
    '@  IN SOA ns.placeholder.invalid. hostmaster.placeholder.invalid. ( 1 3600 900 1209600 3600 ) ; PLACEHOLDER',
    '@  IN NS  ns.placeholder.invalid. ; PLACEHOLDER',
    ...records,
  ];
  return { zone: { name: `${domain}.zone`, text: Buffer.from(`${text.join('\n')}\n`) }, diagnostics };
}

function fqdn(host: string): string {
  return host.endsWith('.') ? host : `${host}.`;
}
