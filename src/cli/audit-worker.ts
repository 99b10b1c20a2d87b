import { parentPort, workerData } from 'node:worker_threads';
import { auditPulled, domainOf, FolderSiblings, type AuditContext, type Audited, type Finding, type ManagedFile } from '../audit/audit.js';
import { loadCatalog } from '../catalog/catalog.js';
import { usersByMacName } from '../directory/directory.js';
import { checkFleet } from '../fleet/check.js';
import { summarize } from '../format/findings.js';
import { append, byPathAndLine, macUser, NameBytes, type AuditSetup, type Batch, type UsersReply, type WorkerMessage } from './audit-threads.js';
import { sortedLines } from './spool.js';
import { isArchive, readPulled, unlistedFinding, walkFiles, whoFrom, ZipEntries, type ZipRecord } from './pulled.js';

// An audit thread: walks, reads and checks the folders (or a zip's plists) of each batch it is sent (see audit-threads.ts).
const setup = workerData as AuditSetup;
const catalog = loadCatalog();
const { fleet, source } = checkFleet(setup.fleetFile, setup.fleetBytes, catalog);
if (!fleet || !source) throw new Error('fleet.yaml no longer checks out in the audit thread');
const base: AuditContext = { fleet, source, catalog, usersByName: new Map() };
const listed = new Map<number, { batch: Batch; files: Listed[]; aside: Aside }>();
const post = (message: WorkerMessage) => parentPort!.postMessage(message);
/** Each batch's hosts and host/user pairs, sent with its findings; reused, as a batch's names are taken when it is done. */
const hosts = new NameBytes();
const users = new NameBytes();
const siblings = new FolderSiblings(catalog);

interface Listed {
  rel: string;
  domain: string;
  /** For a zip's plist, its central directory record. */
  record?: ZipRecord;
}

/** What a batch's walk sets aside: archives found, for the main thread to read, and folders it could not list. */
interface Aside {
  archives: string[];
  findings: Finding[];
}

/** Calls `visit` with each of a batch's files of an audited domain (its folders walked in turn) or its zip's plists. */
function eachFile(batch: Batch, visit: (file: Listed) => void, aside: Aside): void {
  const take = (rel: string) => {
    if (isArchive(rel)) return void aside.archives.push(rel);
    const domain = domainOf(rel, base);
    if (domain !== undefined) visit({ rel, domain });
  };
  batch.files.forEach(take);
  for (const dir of batch.dirs) walkFiles(batch.root, dir, take, (rel, code) => void aside.findings.push(unlistedFinding(batch.root, batch.arg, rel, code)));
  for (const { record, domain } of batch.zip ?? []) visit({ rel: record.name, domain, record });
}

/**
 * Reads and audits each file in turn: its bytes and parse are garbage before the next file is read, which
 * keeps the young generation's survivors (and the time V8 spends copying them) to the findings.
 */
function auditBatch(batch: Batch, files: (visit: (file: Listed) => void) => void, context: AuditContext, aside: Aside): void {
  const findings: Finding[] = [];
  const audited: Audited[] = [];
  const managed: ManagedFile[] = [];
  let count = 0;
  const zip = batch.zipFd !== undefined ? new ZipEntries(batch.zipFd) : undefined;
  files(({ rel, domain, record }) => {
    const file = record ? zip!.read(batch.arg, record, domain) : readPulled(batch.root, batch.arg, rel, domain);
    const result = auditPulled(file, context);
    count++;
    append(findings, result.findings);
    if (setup.listAudited) audited.push(result.audited);
    if (result.managed) managed.push(result.managed);
    siblings.add(file.file, file.host, file.user, file.domain);
    if (file.host) hosts.add(file.host);
    if (file.user) users.add(macUser(file.host, file.user));
  });
  append(findings, aside.findings);
  const summary = summarize(count, findings, 0, 0);
  post({ type: 'done', id: batch.id, findings: sortedLines(findings, byPathAndLine), summary, audited, hosts: hosts.take(), users: users.take(), archives: aside.archives, incomplete: siblings.take(), managed });
}

parentPort!.on('message', (message: Batch | UsersReply) => {
  if (message.type === 'users') {
    const { batch, files, aside } = listed.get(message.id)!;
    listed.delete(message.id);
    auditBatch(batch, (visit) => files.forEach(visit), { ...base, usersByName: usersByMacName(message.users) }, aside);
    return;
  }
  // Without a directory, files are audited as they are found: a batch's listing, held while the batch was
  // audited, outlived the young generation (a 200,000-plist audit peaked at 176 to 178 MB with it, 170 to
  // 171 MB without).
  const aside: Aside = { archives: [], findings: [] };
  if (!setup.askForUsers) return auditBatch(message, (visit) => eachFile(message, visit, aside), base, aside);
  // With one, a batch is listed first, to ask for the users its files belong to.
  const files: Listed[] = [];
  eachFile(message, (file) => files.push(file), aside);
  listed.set(message.id, { batch: message, files, aside });
  post({ type: 'need', id: message.id, names: [...new Set(files.map((f) => whoFrom(f.rel).user).filter((u): u is string => u !== null))] });
});
