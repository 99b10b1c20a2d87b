import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { loadCatalog } from '../catalog/catalog.js';
import { readDirectory } from '../directory/directory.js';
import { atLeast, CODES, sortDiagnostics, type Diagnostic, type Severity } from '../diagnostics/diagnostic.js';
import { checkFleet } from '../fleet/check.js';
import type { Fleet, User } from '../fleet/model.js';
import { checkUsers } from '../fleet/users.js';
import { locate, type YamlSource } from '../source/yaml-source.js';
import { firstInvalidXmlChar } from '../source/utf8.js';
import { fleetSchema } from '../fleet/schema.js';
import { formatters, type FormatName } from '../format/formatters.js';
import { OutputError, writeOutput } from '../compile/output.js';
import { planBuild } from '../compile/plan.js';
import { EXIT, type Io } from './io.js';
import { VERSION } from './main.js';

const PACKAGE_ROOT = new URL('../../../', import.meta.url);

interface Loaded {
  diagnostics: Diagnostic[];
  fleet?: Fleet;
  source?: YamlSource;
  users?: User[];
  bytes?: Buffer;
}

/**
 * The edge where fleet.yaml and its directory are read: everything after this is pure. The directory
 * is read only for a fleet without errors, since its columns come from the fleet.
 */
async function loadPolicy(io: Io, file: string): Promise<Loaded> {
  const path = resolve(io.cwd, file);
  const display = relative(io.cwd, path) || file;
  const fleetBytes = await readInput(display, path);
  if (!Buffer.isBuffer(fleetBytes)) return { diagnostics: [fleetBytes] };
  const checked = checkFleet(display, fleetBytes);
  const { fleet, source } = checked;
  if (!fleet?.directory || !source) return { ...checked, bytes: fleetBytes };

  const csvPath = resolve(dirname(path), fleet.directory.file);
  const csvDisplay = relative(io.cwd, csvPath) || fleet.directory.file;
  const csvBytes = await readInput(csvDisplay, csvPath);
  if (!Buffer.isBuffer(csvBytes)) return { diagnostics: sortDiagnostics([...checked.diagnostics, csvBytes]) };
  const directory = readDirectory(fleet.directory, csvDisplay, csvBytes, (keyPath) => ({ file: display, keyPath, ...locate(source, keyPath) }));
  const diagnostics = [...checked.diagnostics, ...directory.diagnostics];
  if (directory.users) diagnostics.push(...checkUsers(fleet, directory.users, csvDisplay));
  const failed = diagnostics.some((d) => d.severity === 'error');
  return failed ? { diagnostics: sortDiagnostics(diagnostics) } : { fleet, source, users: directory.users!, bytes: fleetBytes, diagnostics: sortDiagnostics(diagnostics) };
}

async function readInput(display: string, path: string): Promise<Buffer | Diagnostic> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (code ?? 'unreadable');
    return { code: 'io/unreadable', severity: CODES['io/unreadable'], message: `cannot read ${display}: ${reason}`, file: display };
  }
}

/**
 * Passwords are resolved here, at build time, from the environment or a file, and never printed: a
 * diagnostic names the variable or the file, not the value.
 */
async function resolveSecrets(io: Io, fleetPath: string, fleet: Fleet, source: YamlSource): Promise<{ secrets: Map<number, string>; diagnostics: Diagnostic[] }> {
  const secrets = new Map<number, string>();
  const diagnostics: Diagnostic[] = [];
  for (const [index, account] of fleet.accounts.entries()) {
    const keyPath = [...account.keyPath, 'password'];
    const fail = (code: 'secret/missing' | 'secret/invalid', message: string) =>
      diagnostics.push({ code, severity: CODES[code], message, file: source.file, keyPath, ...locate(source, keyPath) });
    const ref = account.password;
    if (!ref || account.authentication !== 'password') continue;
    let value: string | undefined;
    const name = 'env' in ref ? `environment variable ${ref.env}` : `file ${ref.file}`;
    if ('env' in ref) {
      value = io.env[ref.env];
    } else {
      value = await readFile(resolve(dirname(fleetPath), ref.file), 'utf8').then((text) => text.replace(/\r?\n$/, ''), () => undefined);
    }
    if (value === undefined || value === '') {
      const why = value === '' ? 'is empty' : 'env' in ref ? 'is not set' : 'cannot be read';
      fail('secret/missing', `accounts[${index}].password: the ${name} ${why}`);
    } else if (firstInvalidXmlChar(value) >= 0) {
      fail('secret/invalid', `accounts[${index}].password: the ${name} holds a character a plist cannot carry`);
    } else {
      secrets.set(index, value);
    }
  }
  return { secrets, diagnostics };
}

function exitCode(diagnostics: readonly Diagnostic[], failOn: Severity): number {
  if (diagnostics.some((d) => d.severity === 'error')) return EXIT.usage;
  return diagnostics.some((d) => atLeast(d.severity, failOn)) ? EXIT.findings : EXIT.ok;
}

export async function validate(io: Io, file: string, options: { format: FormatName; failOn: Severity }): Promise<number> {
  const { diagnostics } = await loadPolicy(io, file);
  io.stdout(formatters[options.format](diagnostics, { color: io.stdoutIsTTY && !io.env.NO_COLOR }));
  if (options.format === 'stylish' && diagnostics.length === 0) io.stdout(`${file}: no problems\n`);
  return exitCode(diagnostics, options.failOn);
}

export async function build(io: Io, file: string, options: { output?: string; plistFormat: 'xml' | 'binary'; failOn: Severity }): Promise<number> {
  const loaded = await loadPolicy(io, file);
  const color = io.stderrIsTTY && !io.env.NO_COLOR;
  const report = (diagnostics: readonly Diagnostic[]) => io.stderr(formatters.stylish(diagnostics, { color }));
  const stop = (diagnostics: readonly Diagnostic[]) => {
    report(diagnostics);
    io.stderr('Nothing was written.\n');
    const code = exitCode(diagnostics, options.failOn);
    return code === EXIT.ok ? EXIT.usage : code;
  };
  const { fleet, bytes, source } = loaded;
  if (!fleet || !bytes || !source || exitCode(loaded.diagnostics, options.failOn) !== EXIT.ok) return stop(loaded.diagnostics);
  const { secrets, diagnostics: secretProblems } = await resolveSecrets(io, resolve(io.cwd, file), fleet, source);
  if (secretProblems.length) return stop([...loaded.diagnostics, ...secretProblems]);
  const plan = planBuild({
    fleet, catalog: loadCatalog(), fleetBytes: bytes, secrets, plistFormat: options.plistFormat, version: VERSION,
    ...(loaded.users && { users: loaded.users }),
  });
  const problems = [...loaded.diagnostics, ...plan.diagnostics];
  if (plan.diagnostics.some((d) => d.severity === 'error') || exitCode(problems, options.failOn) !== EXIT.ok) return stop(problems);
  report(problems);
  const outDir = resolve(io.cwd, options.output ?? join(dirname(file), 'build'));
  try {
    await writeOutput(outDir, plan.artifacts, plan.manifest);
  } catch (error) {
    if (!(error instanceof OutputError)) throw error;
    report([{ code: 'io/write-failed', severity: 'error', message: error.message, file: relative(io.cwd, outDir) || '.' }]);
    return EXIT.usage;
  }
  const shown = relative(io.cwd, outDir) || '.';
  const counts = { profile: 0, plist: 0, user: 0 };
  for (const a of plan.artifacts) {
    if (a.entry.kind === 'profile' || a.entry.kind === 'plist') counts[a.entry.kind]++;
    if (a.entry.user !== undefined) counts.user++;
  }
  const perUser = counts.user ? ` (${counts.user} of them per-user)` : '';
  io.stdout(`Wrote ${counts.profile} profiles${perUser} and ${counts.plist} plists to ${shown}/ (listed in ${shown}/manifest.json)\n`);
  return EXIT.ok;
}

export async function init(io: Io, dir: string, options: { force?: boolean }): Promise<number> {
  const target = resolve(io.cwd, dir, 'fleet.yaml');
  if (existsSync(target) && !options.force) {
    io.stderr(`mdmgen: ${relative(io.cwd, target)} already exists; use --force to replace it\n`);
    return EXIT.usage;
  }
  const template = await readFile(new URL('templates/init/fleet.yaml.hbs', PACKAGE_ROOT), 'utf8');
  const schemaPath = relative(dirname(target), fileURLToPath(new URL('schemas/fleet.schema.json', PACKAGE_ROOT)));
  // noEscape: this is YAML, not HTML; strict: a variable the template names but nobody passes is an error.
  const render = Handlebars.create().compile(template, { noEscape: true, strict: true });
  try {
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, render({ schemaPath: schemaPath.split('\\').join('/') }));
  } catch (error) {
    io.stderr(`mdmgen: cannot write ${relative(io.cwd, target)}: ${(error as NodeJS.ErrnoException).code ?? 'failed'}\n`);
    return EXIT.usage;
  }
  io.stdout(`Wrote ${relative(io.cwd, target) || 'fleet.yaml'}. Next: mdmgen build ${relative(io.cwd, target)}\n`);
  return EXIT.ok;
}

export async function schema(io: Io): Promise<number> {
  io.stdout(`${JSON.stringify(fleetSchema(loadCatalog()), null, 2)}\n`);
  return EXIT.ok;
}
