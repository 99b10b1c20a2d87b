import { loadPorts, routerConfigurations, type ServiceId } from '../catalog/ports.js';
import type { Fleet, Policy } from '../fleet/model.js';
import { get } from '../fleet/rules.js';

const DAEMON = 'com.microsoft.MessengerDaemon';

/** One line of ports.json: a port (or range) a configured service needs. */
export interface PortRule {
  service: string;
  protocol: 'tcp' | 'udp';
  /** A number, or "from-to" for a range. */
  port: number | string;
  /** Whose firewall: the Macs' (and the network in front of them) or the XMPP server's. */
  firewall: 'mac' | 'server';
  direction: 'outbound' | 'inbound' | 'both';
  scope: 'uplink' | 'local-only';
  action: 'allow' | 'block';
  purpose: string;
  /** The seed document the rule comes from, or the fleet.yaml keys that set it. */
  source: string;
  /** Servers on the other end, where fleet.yaml names them. */
  peers?: string[];
}

function policies(fleet: Fleet): { name: string; policy: Policy }[] {
  return [{ name: 'base', policy: fleet.base }, ...fleet.groups.map((g) => ({ name: g.name, policy: g.policy }))];
}

const literal = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' && !value.includes('{{') ? value : undefined);

/** Every port each configured service needs, from the seeds' tables and the policy's own port range. */
export function portRules(fleet: Fleet): PortRule[] {
  const services = loadPorts();
  const rules: PortRule[] = [];
  const add = (id: ServiceId, extra: Partial<PortRule> = {}) => {
    for (const p of services[id].ports) {
      rules.push({
        service: services[id].name, protocol: p.protocol, port: p.to ? `${p.port}-${p.to}` : p.port, firewall: p.firewall,
        direction: p.direction, scope: p.scope, action: 'allow', purpose: p.purpose, source: p.source, ...extra,
      });
    }
  };
  const all = policies(fleet);
  const messenger = all.some(({ policy }) => [...policy.keys()].some((d) => d.startsWith('com.microsoft.Messenger')));
  if (messenger) {
    const servers = [...new Set(all.map(({ policy }) => literal(get(policy, DAEMON, 'RTCServerAddress')?.value)).filter((s): s is string => s !== undefined))];
    const peers = servers.length ? { peers: servers } : {};
    // Without RTCTransport, Messenger uses TLS (the guide: "When automatic configuration is selected,
    // Messenger for Mac uses the TLS protocol").
    const transports = new Set(all.map(({ policy }) => get(policy, DAEMON, 'RTCTransport')?.value ?? 4));
    if (transports.has(4)) add('lcs-tls', peers);
    if (transports.has(2)) add('lcs-tcp', peers);
    const ranges = new Map<string, string[]>();
    for (const { name, policy } of all) {
      const min = get(policy, DAEMON, 'PortRangeMinSIPDynamicPort')?.value;
      const max = get(policy, DAEMON, 'PortRangeMaxSIPDynamicPort')?.value;
      if (get(policy, DAEMON, 'PortRangeEnabled')?.value !== 1 || typeof min !== 'number' || typeof max !== 'number') continue;
      ranges.set(`${min}-${max}`, [...(ranges.get(`${min}-${max}`) ?? []), name]);
    }
    for (const [range, groups] of ranges) {
      rules.push({
        service: 'Live Communications Server callback', protocol: 'tcp', port: range, firewall: 'mac', direction: 'inbound', scope: 'uplink', action: 'allow',
        purpose: `Live Communications Server connects back to Messenger for Mac on these ports (${groups.join(', ')})`,
        source: 'fleet.yaml PortRangeMinSIPDynamicPort..PortRangeMaxSIPDynamicPort (004: at least 3 ports, TCP)', ...peers,
      });
    }
    add('msn', { action: fleet.network.allowPersonalAccounts ? 'allow' : 'block' });
  }
  const jabberHosts = [...new Set(fleet.accounts.filter((a) => a.type === 'jabber').map((a) => a.host))];
  const ichat = fleet.accounts.length > 0 || all.some(({ policy }) => policy.has('com.apple.iChat'));
  if (ichat) add('ichat');
  if (jabberHosts.length) {
    add('jabber', { peers: jabberHosts });
    for (const account of fleet.accounts) {
      if (account.type === 'jabber' && account.port !== undefined && ![5220, 5222, 5223].includes(account.port)) {
        rules.push({ service: 'Jabber (XMPP) client', protocol: 'tcp', port: account.port, firewall: 'mac', direction: 'outbound', scope: 'uplink', action: 'allow', purpose: `The port fleet.yaml sets for ${account.host}`, source: 'fleet.yaml accounts', peers: [account.host] });
      }
    }
    add('xmpp-server', { peers: jabberHosts });
  }
  return rules;
}

export function portsJson(rules: readonly PortRule[]): Buffer {
  return Buffer.from(`${JSON.stringify(rules, null, 2)}\n`);
}

const cell = (text: string | number) => String(text).replace(/\|/g, '\\|');

/** ports.md: for the firewall team, with Apple's router Configuration A and B when iChat is configured. */
export function portsMarkdown(fleet: Fleet, rules: readonly PortRule[]): Buffer {
  const lines = [
    `# Firewall ports for ${fleet.organization.name}`,
    '',
    'Written by mdmgen from fleet.yaml. Directions are seen from the firewall\'s own host: the Macs (and the',
    'network in front of them) or the XMPP server. "local-only" ports are needed by a firewall running on a Mac,',
    'not at the uplink to the Internet.',
    '',
    '| service | firewall | protocol | port | direction | scope | action | purpose | peers | source |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rules.map((r) => `| ${cell(r.service)} | ${r.firewall} | ${r.protocol.toUpperCase()} | ${r.port} | ${r.direction} | ${r.scope} | ${r.action} | ${cell(r.purpose)} | ${cell((r.peers ?? []).join(', '))} | ${cell(r.source)} |`),
  ];
  if (rules.some((r) => r.port === 1863 && r.action === 'block')) {
    lines.push('', 'Port 1863 is blocked: the Messenger for Mac 5.1 Deployment Guide says closing it keeps users off the personal', '(MSN) service. Set `network.allowPersonalAccounts: true` in fleet.yaml to allow it.');
  }
  if (rules.some((r) => r.service.startsWith('iChat'))) {
    const configurations = routerConfigurations();
    lines.push('', '## Routers: Apple\'s Configuration A and B', '', 'From Apple\'s "Using iChat with a firewall or NAT router". Configuration A is less secure than Configuration B,', 'but it works with a wider range of router configurations. iChat audio and video through NAT also needs a', 'full-cone NAT router (an admin\'s notes, seed 001).', '');
    for (const [name, c] of Object.entries(configurations)) {
      lines.push(`### Configuration ${name}`, '', '| packets | source port | destination port |', '|---|---|---|',
        `| outgoing | internal: ${c.outgoing.internalSource} | external: ${c.outgoing.externalDestination} |`,
        `| incoming | external: ${c.incoming.externalSource} | internal: ${c.incoming.internalDestination} |`, '');
    }
  }
  return Buffer.from(`${lines.join('\n').trimEnd()}\n`);
}

/** A pf anchor with the Macs' rules, for Macs whose own firewall is pf. */
export function pfAnchor(fleet: Fleet, rules: readonly PortRule[]): Buffer {
  const lines = [
    `# pf anchor for Messenger for Mac and iChat at ${fleet.organization.name}, written by mdmgen from fleet.yaml.`,
    `# Load it:  sudo pfctl -a ${fleet.organization.identifier} -f pf.anchor   (with an anchor "${fleet.organization.identifier}" rule in /etc/pf.conf)`,
  ];
  for (const r of rules.filter((rule) => rule.firewall === 'mac')) {
    const port = typeof r.port === 'string' ? r.port.replace('-', ':') : r.port;
    const direction = r.direction === 'both' ? '' : r.direction === 'inbound' ? ' in' : ' out';
    const verb = r.action === 'block' ? 'block drop' : 'pass';
    lines.push(`# ${r.service}: ${r.purpose}${r.peers ? ` (${r.peers.join(', ')})` : ''}`);
    lines.push(`${verb}${direction}${r.action === 'block' ? ' quick' : ''} proto ${r.protocol} from any to any port ${port}${r.action === 'allow' ? ' keep state' : ''}`);
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}
