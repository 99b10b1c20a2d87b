import { parentPort, workerData } from 'node:worker_threads';
import { auditPulled, domainOf, type AuditContext, type Audited, type Finding } from '../audit/audit.js';
import { loadCatalog } from '../catalog/catalog.js';
import { checkFleet } from '../fleet/check.js';
import type { AuditSetup, Batch, UsersReply, WorkerMessage } from './audit-threads.js';
import { readPulled, walkFiles, whoFrom } from './pulled.js';

// An audit thread: walks, reads and checks the folders of each batch it is sent (see audit-threads.ts).
const setup = workerData as AuditSetup;
const catalog = loadCatalog();
const { fleet, source } = checkFleet(setup.fleetFile, setup.fleetBytes, catalog);
if (!fleet || !source) throw new Error('fleet.yaml no longer checks out in the audit thread');
const base: AuditContext = { fleet, source, catalog, usersByName: new Map() };
const listed = new Map<number, { batch: Batch; files: Listed[] }>();
const post = (message: WorkerMessage) => parentPort!.postMessage(message);

interface Listed {
  rel: string;
  domain: string;
}

/** A batch's files of an audited domain, its folders walked; nothing is read yet. */
function listBatch(batch: Batch): Listed[] {
  const files: Listed[] = [];
  const take = (rel: string) => {
    const domain = domainOf(rel, base);
    if (domain !== undefined) files.push({ rel, domain });
  };
  batch.files.forEach(take);
  for (const dir of batch.dirs) walkFiles(batch.root, dir, take);
  return files;
}

/**
 * Reads and audits each file in turn: its bytes and parse are garbage before the next file is read, which
 * keeps the young generation's survivors (and the time V8 spends copying them) to the findings.
 */
function auditBatch(batch: Batch, files: Listed[], context: AuditContext): void {
  const findings: Finding[] = [];
  const audited: Audited[] = [];
  const hosts = new Set<string>();
  const users = new Set<string>();
  for (const { rel, domain } of files) {
    const file = readPulled(batch.root, batch.arg, rel, domain);
    const result = auditPulled(file, context);
    findings.push(...result.findings);
    if (setup.listAudited) audited.push(result.audited);
    if (file.host) hosts.add(file.host);
    if (file.user) users.add(`${file.host}/${file.user}`);
  }
  post({ type: 'done', id: batch.id, findings, audited, files: files.length, hosts: [...hosts], users: [...users] });
}

parentPort!.on('message', (message: Batch | UsersReply) => {
  if (message.type === 'users') {
    const { batch, files } = listed.get(message.id)!;
    listed.delete(message.id);
    auditBatch(batch, files, { ...base, usersByName: new Map(message.users.map((u) => [u.name, u])) });
    return;
  }
  const files = listBatch(message);
  if (!setup.askForUsers) return auditBatch(message, files, base);
  listed.set(message.id, { batch: message, files });
  post({ type: 'need', id: message.id, names: [...new Set(files.map((f) => whoFrom(f.rel).user).filter((u): u is string => u !== null))] });
});
