import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { loadCatalog } from '../catalog/catalog.js';
import { atLeast, CODES, type Diagnostic, type Severity } from '../diagnostics/diagnostic.js';
import { checkFleet, type CheckResult } from '../fleet/check.js';
import { fleetSchema } from '../fleet/schema.js';
import { formatters, type FormatName } from '../format/formatters.js';
import { OutputError, writeOutput } from '../compile/output.js';
import { planBuild } from '../compile/plan.js';
import { EXIT, type Io } from './io.js';
import { VERSION } from './main.js';

const PACKAGE_ROOT = new URL('../../../', import.meta.url);

async function readFleet(io: Io, file: string): Promise<CheckResult & { bytes?: Buffer; display: string }> {
  const display = relative(io.cwd, resolve(io.cwd, file)) || file;
  let bytes: Buffer;
  try {
    bytes = await readFile(resolve(io.cwd, file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (code ?? 'unreadable');
    return { diagnostics: [{ code: 'io/unreadable', severity: CODES['io/unreadable'], message: `cannot read ${display}: ${reason}`, file: display }], display };
  }
  return { ...checkFleet(display, bytes), bytes, display };
}

function exitCode(diagnostics: readonly Diagnostic[], failOn: Severity): number {
  if (diagnostics.some((d) => d.severity === 'error')) return EXIT.usage;
  return diagnostics.some((d) => atLeast(d.severity, failOn)) ? EXIT.findings : EXIT.ok;
}

export async function validate(io: Io, file: string, options: { format: FormatName; failOn: Severity }): Promise<number> {
  const { diagnostics } = await readFleet(io, file);
  io.stdout(formatters[options.format](diagnostics, { color: io.stdoutIsTTY && !io.env.NO_COLOR }));
  if (options.format === 'stylish' && diagnostics.length === 0) io.stdout(`${file}: no problems\n`);
  return exitCode(diagnostics, options.failOn);
}

export async function build(io: Io, file: string, options: { output?: string; plistFormat: 'xml' | 'binary'; failOn: Severity }): Promise<number> {
  const checked = await readFleet(io, file);
  const color = io.stderrIsTTY && !io.env.NO_COLOR;
  const report = (diagnostics: readonly Diagnostic[]) => io.stderr(formatters.stylish(diagnostics, { color }));
  report(checked.diagnostics);
  const code = exitCode(checked.diagnostics, options.failOn);
  if (code !== EXIT.ok || !checked.fleet || !checked.bytes) {
    io.stderr('Nothing was written.\n');
    return code === EXIT.ok ? EXIT.usage : code;
  }
  const plan = planBuild(checked.fleet, loadCatalog(), checked.bytes, { plistFormat: options.plistFormat, version: VERSION });
  if (plan.diagnostics.length) {
    report(plan.diagnostics);
    io.stderr('Nothing was written.\n');
    return EXIT.usage;
  }
  const outDir = resolve(io.cwd, options.output ?? join(dirname(file), 'build'));
  try {
    await writeOutput(outDir, plan.artifacts, plan.manifest);
  } catch (error) {
    if (!(error instanceof OutputError)) throw error;
    report([{ code: 'io/write-failed', severity: 'error', message: error.message, file: relative(io.cwd, outDir) || '.' }]);
    return EXIT.usage;
  }
  const shown = relative(io.cwd, outDir) || '.';
  const counts = { profile: 0, plist: 0 };
  for (const a of plan.artifacts) if (a.entry.kind === 'profile' || a.entry.kind === 'plist') counts[a.entry.kind]++;
  io.stdout(`Wrote ${counts.profile} profiles and ${counts.plist} plists to ${shown}/ (listed in ${shown}/manifest.json)\n`);
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
