import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { auditPulled, domainOf, FolderSiblings, missingPlists, type AuditContext, type Finding } from '../audit/audit.js';
import { loadCatalog } from '../catalog/catalog.js';
import { exemptAt } from '../fleet/exemptions.js';
import type { Severity } from '../diagnostics/diagnostic.js';
import { failsAt, writeFindings, type FindingsFormat } from '../format/findings.js';
import { formatters } from '../format/formatters.js';
import { EXIT, type Io } from './io.js';
import { loadPolicy } from './load.js';
import { append, auditHereFirst, auditInThreads, auditThreads, fixedThreads, folderWork, Tally, THREADED_ENTRIES, THREADED_FOLDERS, zipWork, type ThreadPlan, type Work } from './audit-threads.js';
import { ArchiveError, AS_GIVEN, coveredPaths, frontier, IN_PULL, isArchive, isZip, missingPaths, pathFinding, pulledFiles, readPulled, readZip, unlistedFinding, walkFiles, ZipArchive, type Pulled } from './pulled.js';
import { progress } from './progress.js';
import { VERSION } from './main.js';

/** `mdmgen audit FLEET PATH...`: 0 compliant, 1 findings at or above --fail-on, 2 usage error or bad fleet.yaml. */
export async function audit(io: Io, fleetFile: string, paths: string[], options: { format: FindingsFormat; failOn: Severity }): Promise<number> {
  const loaded = await loadPolicy(io, fleetFile);
  const { fleet, source } = loaded;
  if (!fleet || !source || loaded.diagnostics.some((d) => d.severity === 'error')) {
    io.stderr(formatters.stylish(loaded.diagnostics, { color: io.stderrIsTTY && !io.env.NO_COLOR }));
    return EXIT.usage;
  }
  // fleet.yaml's other warnings are validate's to say; an exemption that has run out changes this report.
  const expired = loaded.diagnostics.filter((d) => d.code === 'exemption/expired');
  if (expired.length) io.stderr(formatters.stylish(expired, { color: io.stderrIsTTY && !io.env.NO_COLOR }));
  const context: AuditContext = {
    fleet, source, catalog: loadCatalog(),
    usersByName: loaded.users ?? new Map(),
  };
  const missing = missingPaths(io.cwd, paths);
  if (missing.length) {
    io.stderr(`mdmgen: no such file or folder: ${missing.join(', ')}\n`);
    return EXIT.usage;
  }

  const siblings = new FolderSiblings(context.catalog);
  using tally = new Tally(options.format === 'junit' || options.format === 'html', siblings, io.env.MDMGEN_SPOOL_LIMIT !== undefined ? Number(io.env.MDMGEN_SPOOL_LIMIT) : undefined);
  const known = (path: string) => domainOf(path, context);
  const fixed = io.env.MDMGEN_THREADS !== undefined ? fixedThreads(Number(io.env.MDMGEN_THREADS)) : undefined;
  const visit = (pulled: Pulled) => tally.add(auditPulled(pulled, context), pulled.host, pulled.user);
  // A plist named on its own is audited alone: its siblings were not asked for.
  const visitAlone = (pulled: Pulled) => tally.add(auditPulled(pulled, context), pulled.host, pulled.user, false);
  const track = (what: string, total: number) => progress(io, what, total);
  const setup = { fleetFile: fleet.file, fleetBytes: loaded.bytes!, listAudited: tally.listAudited, askForUsers: loaded.users !== undefined };
  /**
   * Audits a folder's or a zip's shares with `threads` threads, under a progress bar of `total` units of
   * `what`; `here`, given, audits shares on this thread first, for as long as the plan says that what is
   * left would not pay for starting threads.
   */
  const inThreads = async (root: string, arg: string, next: () => Work | undefined, threads: ThreadPlan, what: string, total: number, here?: (work: Work) => void) => {
    const bar = track(what, total);
    try {
      const done = here ? auditHereFirst(next, here, threads.handOver, total, (units) => bar.update(units)) : 0;
      if (done === undefined) return [];
      return (await auditInThreads(setup, root, arg, next, threads, context.usersByName, tally, (units) => bar.update(done + units))).archives;
    } finally {
      bar.finish();
    }
  };
  /**
   * Audits a plist or an archive of pulls, given as a path from the working folder and opened with `flags`
   * (an archive found in a pull with IN_PULL); a large zip with threads, one per core.
   */
  const auditFile = async (arg: string, flags = AS_GIVEN) => {
    if (!isZip(arg)) return pulledFiles(io.cwd, arg, known, isArchive(arg) ? visit : visitAlone, track, flags);
    const path = resolve(io.cwd, arg);
    const zip = await ZipArchive.open(path, flags);
    const threads = fixed ?? fixedThreads(availableParallelism());
    if (zip.entryCount < THREADED_ENTRIES || threads.most < 2) return readZip(arg, zip, known, visit, track);
    try {
      await inThreads(path, arg, zipWork(zip, known, threads.most), threads, `entries of ${arg}`, zip.entryCount);
    } finally {
      zip.close();
    }
  };
  /** Audits one PATH argument: a plist, an archive of pulls or a folder (shared among threads when large). */
  const auditPath = async (arg: string, absolute: string, isFolder: boolean) => {
    if (!isFolder) return auditFile(arg);
    const unlisted = (dir: string, code: string) => void tally.found([unlistedFinding(absolute, arg, dir, code)]);
    const plan = frontier(absolute, THREADED_FOLDERS, unlisted);
    const threads = fixed ?? auditThreads(io.env.MDMGEN_THREAD_PAYBACK_MS !== undefined ? { paybackMs: Number(io.env.MDMGEN_THREAD_PAYBACK_MS) } : {});
    const archives: string[] = [];
    const take = (rel: string) => {
      if (isArchive(rel)) return void archives.push(rel);
      const domain = known(rel);
      if (domain !== undefined) visit(readPulled(absolute, arg, rel, domain));
    };
    const here = (work: { dirs: string[]; files: string[] }) => {
      work.files.forEach(take);
      for (const dir of work.dirs) walkFiles(absolute, dir, take, unlisted);
    };
    if (plan.dirs.length >= THREADED_FOLDERS && threads.most > 1) {
      append(archives, await inThreads(absolute, arg, folderWork(plan, threads.most), threads, 'folders', plan.dirs.length, here));
    } else {
      here(plan);
    }
    // Archives in a pull (a day's export saved beside the others) are audited after its plists, each as if named.
    for (const rel of archives.sort()) {
      const inner = join(arg, rel);
      await auditFile(inner, IN_PULL).catch((error: unknown) => {
        if (!(error instanceof ArchiveError)) throw error;
        tally.found([pathFinding(inner, 'audit/unreadable', error.message)]);
      });
    }
  };
  const covered = coveredPaths(io.cwd, paths);
  for (const [i, { by, same }] of covered) io.stderr(`mdmgen: ${paths[i]} ${same ? `is ${by} again` : `is inside ${by}`}: audited once\n`);
  try {
    for (const [i, arg] of paths.entries()) {
      if (covered.has(i)) continue;
      // The PATHs are the admin's own, so a symlink among them is followed; those inside a pull never are.
      const absolute = resolve(io.cwd, arg);
      const isFolder = statSync(absolute).isDirectory();
      const before = tally.files;
      try {
        await auditPath(arg, absolute, isFolder);
      } catch (error) {
        // Like an unreadable plist, a broken archive is a finding, and the run goes on to the next PATH.
        if (!(error instanceof ArchiveError)) throw error;
        tally.found([pathFinding(arg, 'audit/unreadable', error.message)]);
        continue;
      }
      // A nightly audit whose pull came back empty must not pass as compliant.
      if (tally.files === before) tally.found([nothingAudited(arg, isFolder || isArchive(arg))]);
    }
  } catch (error) {
    io.stderr(`mdmgen: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  for (const found of siblings.take()) tally.missed(missingPlists(found, siblings.missing(found), context, tally.managed));
  const { summary, findings } = tally.report(context, exemptAt(fleet.exemptions, io.now()));
  const report = { summary, findings, audited: tally.audited, version: VERSION, fleet: fleetFile };
  const color = io.stdoutIsTTY && !io.env.NO_COLOR;
  await writeFindings(io.stdout, options.format, report, { color });
  return failsAt(summary, options.failOn) ? EXIT.findings : EXIT.ok;
}

/** A PATH that gave no plist to audit: a folder or archive with none of an audited domain, or a plist of another domain. */
function nothingAudited(arg: string, holdsMany: boolean): Finding {
  return pathFinding(arg, 'audit/no-plists', holdsMany
    ? `nothing audited: no <domain>.plist of a domain fleet.yaml or the catalogue knows is in ${arg}`
    : `nothing audited: ${arg} is not <domain>.plist for a domain fleet.yaml or the catalogue knows`);
}

