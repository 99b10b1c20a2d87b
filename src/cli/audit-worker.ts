import { parentPort, workerData } from 'node:worker_threads';
import { auditPulled, domainOf, type AuditContext, type Audited, type Finding } from '../audit/audit.js';
import { loadCatalog } from '../catalog/catalog.js';
import { checkFleet } from '../fleet/check.js';
import type { AuditSetup, Batch, UsersReply, WorkerMessage } from './audit-threads.js';
import { readPulled, walkFiles, type Pulled } from './pulled.js';

// An audit thread: walks, reads and checks the folders of each batch it is sent (see audit-threads.ts).
const setup = workerData as AuditSetup;
const catalog = loadCatalog();
const { fleet, source } = checkFleet(setup.fleetFile, setup.fleetBytes, catalog);
if (!fleet || !source) throw new Error('fleet.yaml no longer checks out in the audit thread');
const base: AuditContext = { fleet, source, catalog, usersByName: new Map() };
const read = new Map<number, Pulled[]>();
const post = (message: WorkerMessage) => parentPort!.postMessage(message);

/** Reads a batch's pulled files: each folder walked, each file of an audited domain read once. */
function readBatch(batch: Batch): Pulled[] {
  const pulled: Pulled[] = [];
  const take = (rel: string) => {
    const domain = domainOf(rel, base);
    if (domain !== undefined) pulled.push(readPulled(batch.root, batch.arg, rel, domain));
  };
  batch.files.forEach(take);
  for (const dir of batch.dirs) walkFiles(batch.root, dir, take);
  return pulled;
}

function auditBatch(id: number, pulled: Pulled[], context: AuditContext): void {
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
  post({ type: 'done', id, findings, audited, files: pulled.length, hosts: [...hosts], users: [...users] });
}

parentPort!.on('message', (message: Batch | UsersReply) => {
  if (message.type === 'users') {
    const pulled = read.get(message.id)!;
    read.delete(message.id);
    auditBatch(message.id, pulled, { ...base, usersByName: new Map(message.users.map((u) => [u.name, u])) });
    return;
  }
  const pulled = readBatch(message);
  if (!setup.askForUsers) return auditBatch(message.id, pulled, base);
  read.set(message.id, pulled);
  post({ type: 'need', id: message.id, names: [...new Set(pulled.map((p) => p.user).filter((u): u is string => u !== null))] });
});
