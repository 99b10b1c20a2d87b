import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as commander from 'commander';
import { EXIT, internalError, type Io } from './io.js';

// Only commander loads at startup; each command imports its own modules, so `mdmgen --help` stays fast.
// Commander is required rather than imported: through its ESM wrapper and Node's CommonJS translator,
// `mdmgen --help` took 12 to 24 ms longer (hyperfine, 100 runs each, two orders).
const { Command, CommanderError, Option } = createRequire(import.meta.url)('commander') as typeof commander;
export const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const failOn = () => new Option('--fail-on <severity>', 'exit 1 when a diagnostic at or above this severity remains').choices(['error', 'warning', 'info']).default('error');
// -f as ESLint and Spectral spell it, for the same report formats.
const findingsFormat = () => new Option('-f, --format <format>', 'output format').choices(['stylish', 'json', 'sarif', 'junit', 'csv', 'html']).default('stylish');

function createProgram(io: Io, setExit: (code: number) => void): commander.Command {
  const program = new Command('mdmgen')
    .description('Compile one fleet.yaml into Messenger for Mac and iChat preference plists and configuration profiles.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run mdmgen --help for usage)');

  program.command('build')
    .description('validate FLEET, then write its plists, profiles, install point and manifest.json into the output folder (-o)')
    .argument('<fleet>', 'the fleet.yaml policy file')
    .option('-o, --output <dir>', 'output folder (default: build/ next to FLEET)')
    .addOption(new Option('--plist-format <format>', 'format of the preference plists').choices(['xml', 'binary']).default('xml'))
    .addOption(failOn())
    .action(async (fleet: string, options) => setExit(await (await import('./commands.js')).build(io, fleet, options)));

  program.command('validate')
    .description('check FLEET and print its diagnostics; writes nothing')
    .argument('<fleet>', 'the fleet.yaml policy file')
    .addOption(findingsFormat())
    .addOption(failOn())
    .action(async (fleet: string, options) => setExit(await (await import('./commands.js')).validate(io, fleet, options)));

  program.command('audit')
    .description('check plists pulled from Macs (files, folders, .zip, .tar.gz and .tar) against the policy')
    .argument('<fleet>', 'the fleet.yaml policy file')
    .argument('<paths...>', 'pulled plists: files, folders or archives')
    .addOption(findingsFormat())
    .addOption(failOn())
    .action(async (fleet: string, paths: string[], options) => setExit(await (await import('./audit.js')).audit(io, fleet, paths, options)));

  program.command('verify')
    .description('check signed profiles: signature, content digest, chain to --ca, signer validity and keyUsage')
    .argument('<paths...>', 'signed .mobileconfig files, or folders of them (a build\'s profiles/); - for standard input')
    .option('--ca <cert>', 'a trusted root (PEM or DER); repeat for several', (value: string, previous: string[] = []) => [...previous, value])
    .action(async (paths: string[], options) => setExit(await (await import('./inspect.js')).verify(io, paths, options)));

  program.command('explain')
    .description('what a user (or --group, or the base policy) gets, and the line of fleet.yaml each setting comes from')
    .argument('<fleet>', 'the fleet.yaml policy file')
    .argument('[user]', 'a user of the directory (their short name, as a Mac compares names)')
    .option('--group <name>', 'a group of fleet.yaml instead of a user')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (fleet: string, user: string | undefined, options) => setExit(await (await import('./explain.js')).explain(io, fleet, user, options)));

  program.command('diff')
    .description('what changes between two builds (output folders): files added, removed or changed, and the settings of each profile and plist that did')
    .argument('<old>', 'the earlier build\'s output folder')
    .argument('<new>', 'the later build\'s output folder')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (oldDir: string, newDir: string, options) => setExit(await (await import('./diff.js')).diff(io, oldDir, newDir, options)));

  program.command('inspect')
    .description('print any plist or profile (XML, binary or signed) as data')
    .argument('<file>', 'a plist or .mobileconfig (- for standard input)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['json', 'yaml']).default('json'))
    .action(async (file: string, options) => setExit(await (await import('./inspect.js')).inspect(io, file, options)));

  program.command('init')
    .description('write a commented fleet.yaml and a sample users.csv (an Active Directory export) into DIR')
    .argument('[dir]', 'folder to write fleet.yaml into', '.')
    .option('--force', 'replace an existing fleet.yaml (an existing users.csv is always kept)')
    .action(async (dir: string, options) => setExit(await (await import('./commands.js')).init(io, dir, options)));

  program.command('schema')
    .description('print the fleet.yaml JSON Schema (for editors and CI), or with --jamf a preference domain\'s Jamf Pro manifest')
    .option('--jamf <domain>', 'print the Jamf Pro Application & Custom Settings manifest of com.microsoft.Messenger or com.microsoft.MessengerDaemon')
    .action(async (options) => setExit(await (await import('./commands.js')).schema(io, options)));

  return program;
}

/** main, with a bug reported as one (see internalError). */
export async function cli(argv: readonly string[], io: Io): Promise<number> {
  try {
    return await main(argv, io);
  } catch (error) {
    io.stderr(internalError(error, io.env));
    return EXIT.usage;
  }
}

/** Runs the CLI on user arguments (without node and script) and returns the exit code. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  let code: number = EXIT.ok;
  const program = createProgram(io, (c) => (code = c));
  if (argv.length === 0) {
    io.stderr(program.helpInformation());
    return EXIT.usage;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      const informational = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help';
      return informational ? EXIT.ok : EXIT.usage;
    }
    throw error;
  }
  return code;
}
