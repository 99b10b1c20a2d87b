import { constants, existsSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCatalog } from '../catalog/catalog.js';
import { atLeast, sortDiagnostics, type Diagnostic, type Severity } from '../diagnostics/diagnostic.js';
import { systemReason } from '../diagnostics/system-error.js';
import { fleetSchema } from '../fleet/schema.js';
import { formatters, type FormatName } from '../format/formatters.js';
import type { BuildInput } from '../compile/plan.js';
import type { BuildThreads } from '../compile/user-profiles.js';
import { template } from '../precompiled.js';
import { EXIT, shownPath, type Io } from './io.js';
import { loadAnchors, loadPolicy, loadProgram, loadSigning, resolveAccountSecrets, type Loaded } from './load.js';
import { VERSION } from './main.js';
import { progress } from './progress.js';

const PACKAGE_ROOT = new URL('../../../', import.meta.url);

function exitCode(diagnostics: readonly Diagnostic[], failOn: Severity): number {
  if (diagnostics.some((d) => d.severity === 'error')) return EXIT.usage;
  return diagnostics.some((d) => atLeast(d.severity, failOn)) ? EXIT.findings : EXIT.ok;
}

export async function validate(io: Io, file: string, options: { format: FormatName | 'sarif' | 'junit' | 'csv' | 'html'; failOn: Severity }): Promise<number> {
  const loaded = await loadPolicy(io, file);
  let { diagnostics } = loaded;
  // Certificates are checked too; the signing key and every secret are read by build only.
  if (loaded.fleet && loaded.source) diagnostics = sortDiagnostics([...diagnostics, ...(await loadAnchors(io, resolve(io.cwd, file), loaded.fleet, loaded.source)).diagnostics]);
  const color = io.stdoutIsTTY && !io.env.NO_COLOR;
  if (options.format === 'stylish' || options.format === 'json') {
    io.stdout(formatters[options.format](diagnostics, { color }));
    if (options.format === 'stylish' && diagnostics.length === 0) io.stdout(`${file}: no problems\n`);
  } else {
    // The audit's formats, fed the same diagnostics as findings about the policy's own files.
    const { summarize, writeFindings } = await import('../format/findings.js');
    const findings = diagnostics.map((d) => ({ ...d, host: null, user: null, group: null, domain: null, key: null, expected: null, actual: null, policy: null }));
    const files = [...new Set([shownPath(io.cwd, resolve(io.cwd, file)) || file, ...findings.map((f) => f.file)])].sort();
    const report = { summary: summarize(files.length, findings, 0, 0), findings, audited: files.map((f) => ({ file: f, group: null, domain: 'fleet' })), version: VERSION, fleet: file, validation: true };
    await writeFindings(io.stdout, options.format, report, { color });
  }
  return exitCode(diagnostics, options.failOn);
}

type BuildOptions = { output?: string; plistFormat: 'xml' | 'binary'; failOn: Severity };

/** Diagnostics on stderr; `stop` also says nothing was written and answers the exit code. */
function reporting(io: Io, failOn: Severity) {
  const color = io.stderrIsTTY && !io.env.NO_COLOR;
  const report = (diagnostics: readonly Diagnostic[]) => io.stderr(formatters.stylish(diagnostics, { color }));
  const stop = (diagnostics: readonly Diagnostic[]) => {
    report(diagnostics);
    io.stderr('Nothing was written.\n');
    const code = exitCode(diagnostics, failOn);
    return code === EXIT.ok ? EXIT.usage : code;
  };
  return { report, stop };
}

export async function build(io: Io, file: string, options: BuildOptions): Promise<number> {
  const loaded = await loadPolicy(io, file);
  const { stop } = reporting(io, options.failOn);
  const { fleet, bytes, source } = loaded;
  if (!fleet || !bytes || !source || exitCode(loaded.diagnostics, options.failOn) !== EXIT.ok) return stop(loaded.diagnostics);
  const { BuildThreads } = await import('../compile/user-profiles.js');
  const threads = BuildThreads.start(loaded.users?.size ?? 0, io.env.MDMGEN_THREADS === undefined ? undefined : Number(io.env.MDMGEN_THREADS));
  try {
    return await buildLoaded(io, file, options, { ...loaded, fleet, bytes, source }, threads);
  } finally {
    await threads?.terminate();
  }
}

async function buildLoaded(io: Io, file: string, options: BuildOptions, loaded: Loaded & Required<Pick<Loaded, 'fleet' | 'bytes' | 'source'>>, threads: BuildThreads | undefined): Promise<number> {
  const { fleet, bytes, source } = loaded;
  const { report, stop } = reporting(io, options.failOn);
  const fleetPath = resolve(io.cwd, file);
  const { secrets, diagnostics: secretProblems } = await resolveAccountSecrets(io, fleetPath, fleet, source);
  const { anchors, diagnostics: trustProblems } = await loadAnchors(io, fleetPath, fleet, source);
  const { identity, diagnostics: signingProblems } = await loadSigning(io, fleetPath, fleet, source, anchors);
  const { files: program, diagnostics: programProblems } = await loadProgram(fleetPath, fleet, source);
  const edge = [...loaded.diagnostics, ...secretProblems, ...trustProblems, ...signingProblems, ...programProblems];
  if (edge.some((d) => d.severity === 'error')) return stop(sortDiagnostics(edge));
  const signingTime = fleet.signing?.signingTime ? io.now() : undefined;
  const input: BuildInput = {
    fleet, catalog: loadCatalog(), fleetBytes: bytes, secrets, anchors, plistFormat: options.plistFormat, version: VERSION,
    ...(loaded.users && { users: loaded.users }),
    ...(identity && { sign: (await import('../pki/cms.js')).signer(identity, signingTime) }),
    ...(program && { program }),
  };
  // The compiler (and the install point's templates) load here, not for validate, init or schema.
  const [{ ManifestText, planShared }, { OutputError, writeOutputWith }, { makeUserProfiles }] = await Promise.all([import('../compile/plan.js'), import('../compile/output.js'), import('../compile/user-profiles.js')]);
  const plan = await planShared(input);
  const problems = sortDiagnostics([...edge, ...plan.diagnostics]);
  if (plan.diagnostics.some((d) => d.severity === 'error') || exitCode(problems, options.failOn) !== EXIT.ok) return stop(problems);
  report(problems);
  const outDir = resolve(io.cwd, options.output ?? join(dirname(file), 'build'));
  const bar = progress(io, 'user profiles', plan.users.length);
  await io.writing?.(outDir);
  try {
    await writeOutputWith(outDir, async (stage) => {
      const manifest = new ManifestText(input, plan.artifacts);
      for (const a of plan.artifacts) stage.write(a.path, a.bytes, a.mode);
      stage.manifest(manifest.start());
      await makeUserProfiles(input, plan.users, identity && { identity, ...(signingTime && { signingTime }) }, (profile) => {
        stage.write(profile.path, profile.bytes);
        stage.manifest(manifest.add(profile.path, profile.manifest));
      }, { onProgress: (done) => bar.update(done), ...(threads && { threads }) });
      stage.manifest(manifest.end());
    });
  } catch (error) {
    if (!(error instanceof OutputError)) throw error;
    report([{ code: 'io/write-failed', severity: 'error', message: error.message, file: shownPath(io.cwd, outDir) || '.' }]);
    return EXIT.usage;
  } finally {
    bar.finish();
  }
  const shown = shownPath(io.cwd, outDir) || '.';
  const count = (kind: string) => plan.artifacts.filter((a) => a.entry.kind === kind).length;
  const users = plan.users.length;
  const profiles = `${count('profile') + users}${identity ? ' signed' : ''} profiles${users ? ` (${users} of them per-user)` : ''}`;
  const certificates = count('certificate') ? `, ${count('certificate')} certificate files` : '';
  const network = count('network') ? ', firewall ports' : '';
  const dns = count('dns') ? ', DNS records' : '';
  const installPoint = fleet.installPoint ? `, the install point${fleet.installPoint.archive ? ` and install-point.${fleet.installPoint.archive}` : ''}` : '';
  io.stdout(`Wrote ${profiles}, ${count('plist')} plists${certificates}${network}${dns}${installPoint} to ${shown}/ (listed in ${shown}/manifest.json)\n`);
  return EXIT.ok;
}

/**
 * `mdmgen init [DIR]`: a commented fleet.yaml and a sample users.csv (an Active Directory export's columns).
 * An existing fleet.yaml is replaced only with --force; an existing users.csv never is (it is most likely
 * a real export): the new fleet.yaml then maps its columns as the sample's, which validate checks.
 */
export async function init(io: Io, dir: string, options: { force?: boolean }): Promise<number> {
  const target = resolve(io.cwd, dir, 'fleet.yaml');
  const users = join(dirname(target), 'users.csv');
  const shown = (path: string) => shownPath(io.cwd, path) || basename(path);
  if (existsSync(target) && !options.force) {
    io.stderr(`mdmgen: ${shown(target)} already exists; use --force to replace it\n`);
    return EXIT.usage;
  }
  const keepUsers = existsSync(users);
  const schemaPath = relative(dirname(target), fileURLToPath(new URL('schemas/fleet.schema.json', PACKAGE_ROOT)));
  const render = template('init/fleet.yaml.hbs');
  try {
    await mkdir(dirname(target), { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    io.stderr(`mdmgen: ${code === 'EEXIST' || code === 'ENOTDIR' ? `${shown(dirname(target))} is not a folder` : `cannot make ${shown(dirname(target))}: ${systemReason(error)}`}\n`);
    return EXIT.usage;
  }
  try {
    if (!keepUsers) await copyFile(new URL('templates/init/users.csv', PACKAGE_ROOT), users, constants.COPYFILE_EXCL);
    await writeFile(target, render({ schemaPath: schemaPath.split('\\').join('/') }));
  } catch (error) {
    io.stderr(`mdmgen: cannot write ${shown(target)}: ${systemReason(error)}\n`);
    return EXIT.usage;
  }
  const written = keepUsers ? `Wrote ${shown(target)}; kept ${shown(users)}, whose columns it maps as an Active Directory export's.` : `Wrote ${shown(target)} and a sample ${shown(users)}.`;
  io.stdout(`${written} Next: mdmgen build ${shown(target)}\n`);
  return EXIT.ok;
}

export async function schema(io: Io, options: { jamf?: string } = {}): Promise<number> {
  const catalog = loadCatalog();
  if (options.jamf === undefined) {
    io.stdout(`${JSON.stringify(fleetSchema(catalog), null, 2)}\n`);
    return EXIT.ok;
  }
  const entry = catalog.get(options.jamf);
  if (!entry) {
    io.stderr(`mdmgen: --jamf takes one of the domains the catalogue knows: ${[...catalog.keys()].join(', ')}\n`);
    return EXIT.usage;
  }
  const { jamfManifest } = await import('../catalog/jamf.js');
  io.stdout(`${JSON.stringify(jamfManifest(entry), null, 2)}\n`);
  return EXIT.ok;
}
