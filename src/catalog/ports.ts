import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { PROFILES_DIR } from './catalog.js';

export interface ServicePort {
  port: number;
  /** Last port of a range. */
  to?: number;
  protocol: 'tcp' | 'udp';
  firewall: 'mac' | 'server';
  direction: 'outbound' | 'inbound' | 'both';
  scope: 'uplink' | 'local-only';
  source: string;
  purpose: string;
}

export interface Service {
  name: string;
  ports: ServicePort[];
}

export type ServiceId = 'msn' | 'lcs-tls' | 'lcs-tcp' | 'ichat' | 'jabber' | 'xmpp-server';

export interface RouterConfiguration {
  outgoing: { internalSource: string; externalDestination: string };
  incoming: { externalSource: string; internalDestination: string };
}

interface PortsFile {
  services: Record<ServiceId, Service>;
  routerConfigurations: Record<'A' | 'B', RouterConfiguration>;
}

export const BAKED_PORTS = new URL('../../generated/ports.json', import.meta.url);

/** profiles/ports.yaml as written; scripts/bake.mjs stores it as JSON. */
export function readPortsSource(): PortsFile {
  return parse(readFileSync(new URL('ports.yaml', PROFILES_DIR), 'utf8')) as PortsFile;
}

let cached: PortsFile | undefined;

function portsFile(): PortsFile {
  cached ??= JSON.parse(readFileSync(BAKED_PORTS, 'utf8')) as PortsFile;
  return cached;
}

/** profiles/ports.yaml: the ports of every service, from the seeds. */
export function loadPorts(): Record<ServiceId, Service> {
  return portsFile().services;
}

/** Apple's Configuration A and B for routers (seed 003). */
export function routerConfigurations(): Record<'A' | 'B', RouterConfiguration> {
  return portsFile().routerConfigurations;
}
