import { parentPort, workerData } from 'node:worker_threads';
import { auditPulled, domainOf, type AuditContext, type Audited, type Finding } from '../audit/audit.js';
import { loadCatalog } from '../catalog/catalog.js';
import { checkFleet } from '../fleet/check.js';
import type { AuditSetup, Batch, UsersReply, WorkerMessage } from './audit-threads.js';
import { filesUnder, readPulled, type Pulled } from './pulled.js';

// An audit thread: walks, reads and checks the folders of each batch it is sent (see audit-threads.ts).
const setup = workerData as AuditSetup;
const catalog = loadCatalog();
const { fleet, source } = checkFleet(setup.fleetFile, setup.fleetBytes, catalog);
if (!fleet || !source) throw new Error('fleet.yaml no longer checks out in the audit thread');
const base: AuditContext = { fleet, source, catalog, usersByName: new Map() };
const read = new Map<number, Pulled[]>();
const post = (message: WorkerMessage) => parentPort!.postMessage(message);

parentPort!.on('message', (message: Batch | UsersReply) => {
  if (message.type === 'batch') {
    const pulled: Pulled[] = [];
    const take = (rel: string) => {
      if (domainOf(rel, base) !== undefined) pulled.push(readPulled(message.root, message.arg, rel));
    };
    message.files.forEach(take);
    for (const dir of message.dirs) for (const rel of filesUnder(message.root, dir)) take(rel);
    read.set(message.id, pulled);
    post({ type: 'need', id: message.id, names: [...new Set(pulled.map((p) => p.user).filter((u): u is string => u !== null))] });
    return;
  }
  const pulled = read.get(message.id)!;
  read.delete(message.id);
  const context: AuditContext = { ...base, usersByName: new Map(message.users.map((u) => [u.name, u])) };
  const findings: Finding[] = [];
  const audited: Audited[] = [];
  const hosts = new Set<string>();
  const users = new Set<string>();
  for (const file of pulled) {
    const result = auditPulled(file, context);
    findings.push(...result.findings);
    if (setup.listAudited) audited.push(result.audited);
    if (file.host) hosts.add(file.host);
    if (file.user) users.add(`${file.host}/${file.user}`);
  }
  post({ type: 'done', id: message.id, findings, audited, files: pulled.length, hosts: [...hosts], users: [...users] });
});
