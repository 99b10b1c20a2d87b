import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { EXAMPLE, exampleCopy, HEADER, mdmgen, ROOT, tempDir, writeFleet } from './helpers/helpers.js';

test('--help exits 0 and lists the commands; no arguments is a usage error', () => {
  const help = mdmgen(['--help']);
  assert.equal(help.code, 0);
  for (const command of ['build', 'validate', 'init', 'schema']) assert.match(help.stdout, new RegExp(`\\n  ${command}\\b`));
  const bare = mdmgen([]);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /Usage: mdmgen/);
});

test('build, audit and validate, run on a thread of their own, still know a terminal when they print to one: colour on, exit status kept', { skip: !existsSync('/usr/bin/script') && 'needs script(1) for a terminal' }, () => {
  const env = { ...process.env, NO_COLOR: undefined };
  const run = spawnSync('script', ['-qec', `"${process.execPath}" bin/mdmgen.js audit examples/fleet.yaml examples/pulled/MAC-0217`, '/dev/null'], { cwd: ROOT, env, encoding: 'utf8' });
  assert.equal(run.status, 1, 'the findings\' exit status, through the thread and script');
  assert.match(run.stdout, /\u001b\[31merror\u001b\[0m  DisallowSave is false/);
  const piped = mdmgen(['audit', 'examples/fleet.yaml', 'examples/pulled/MAC-0217'], { env: { NO_COLOR: '' } });
  assert.doesNotMatch(piped.stdout, /\u001b/, 'no colour into a pipe');
});

test('an unknown option or command exits 2 without a stack trace', () => {
  for (const args of [['build', EXAMPLE, '--colour'], ['frobnicate'], ['build'], ['build', EXAMPLE, '--plist-format', 'json']]) {
    const run = mdmgen(args);
    assert.equal(run.code, 2, args.join(' '));
    assert.doesNotMatch(run.stderr, /\n\s+at /);
  }
});

test('validate: the example has no problems', () => {
  const run = mdmgen(['validate', EXAMPLE]);
  assert.equal(run.code, 0, run.stdout);
  assert.match(run.stdout, /no problems/);
});

test('validate --format json: one object on stdout, even for a broken file', () => {
  const fleet = writeFleet(`${HEADER}preferences:\n  com.microsoft.MessengerDaemon:\n    AutoldleDelay: 5\n    Tuned: 1\n`);
  const run = mdmgen(['validate', fleet, '--format', 'json']);
  assert.equal(run.code, 2);
  const out = JSON.parse(run.stdout) as { summary: Record<string, number>; diagnostics: Record<string, unknown>[] };
  assert.deepEqual(out.summary, { errors: 1, warnings: 1, infos: 0 });
  assert.deepEqual(out.diagnostics[0], {
    file: fleet, line: 5, column: 5, offset: null, severity: 'error', code: 'schema/unknown-key',
    message: 'unknown key "AutoldleDelay" in com.microsoft.MessengerDaemon; did you mean "AutoIdleDelay"?',
    keyPath: 'preferences["com.microsoft.MessengerDaemon"].AutoldleDelay',
  });
  assert.equal(mdmgen(['validate', fleet, '-f', 'json']).stdout, run.stdout, '-f is --format, as in ESLint');
});

test('-f is --format for audit and inspect too', () => {
  const pulled = join(ROOT, 'examples', 'pulled', 'MAC-0217');
  const long = mdmgen(['audit', EXAMPLE, pulled, '--format', 'csv']);
  assert.equal(long.code, 1, long.stderr);
  assert.match(long.stdout, /^file,host,user,/);
  assert.equal(mdmgen(['audit', '-f', 'csv', EXAMPLE, pulled]).stdout, long.stdout);
  const plist = join(pulled, 'Users', 'jgarcia', 'Library', 'Preferences', 'Microsoft', 'com.microsoft.Messenger.plist');
  const yaml = mdmgen(['inspect', plist, '--format', 'yaml']);
  assert.match(yaml.stdout, /^format: xml\ncontent:\n/);
  assert.equal(mdmgen(['inspect', '-f', 'yaml', plist]).stdout, yaml.stdout);
});

test('--fail-on warning: exit 1, and build writes nothing', () => {
  const dir = tempDir();
  const fleet = writeFleet(`${HEADER}preferences:\n  com.microsoft.MessengerDaemon:\n    Tuned: 1\n`, dir);
  assert.equal(mdmgen(['validate', fleet]).code, 0, 'a warning alone passes by default');
  assert.equal(mdmgen(['validate', fleet, '--fail-on', 'warning']).code, 1);
  const run = mdmgen(['build', fleet, '--fail-on', 'warning']);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /Nothing was written/);
  assert.deepEqual(readFileSync(fleet, 'utf8').length > 0, true);
  assert.throws(() => readFileSync(join(dir, 'build', 'manifest.json')));
});

test('a missing fleet file exits 2 naming it', () => {
  const run = mdmgen(['validate', 'no/such/fleet.yaml']);
  assert.equal(run.code, 2);
  assert.match(run.stdout, /cannot read no\/such\/fleet\.yaml: no such file/);
});

test('files inside the working folder are shown relative to it, files outside it by their absolute path', () => {
  const [here, there] = [tempDir(), tempDir()];
  const broken = writeFleet(`${HEADER}preferences: { com.microsoft.Messenger: { DisallowSave: yes } }\n`, there);
  const outside = mdmgen(['validate', broken], { cwd: here });
  assert.equal(outside.code, 2);
  assert.ok(outside.stdout.startsWith(`${broken}:3:`), outside.stdout);
  const inside = mdmgen(['validate', broken], { cwd: dirname(there) });
  assert.ok(inside.stdout.startsWith(`${relative(dirname(there), broken)}:3:`), inside.stdout);
  const root = mdmgen(['build', EXAMPLE, '-o', '/'], { cwd: here });
  assert.equal(root.code, 2);
  assert.match(root.stderr, /^\/  error  \/ is not an mdmgen output folder/);
});

test('a file that cannot be read is said why in words: a name too long, a folder in the way, no permission', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'file'), '');
  const cases: [string, RegExp][] = [[`${'x'.repeat(300)}.csv`, /: the name is too long$/m], ['file/users.csv', /: a part of the path is a file, not a folder$/m]];
  if (process.getuid?.() !== 0) cases.push(['/root/users.csv', /: permission denied$/m]);
  for (const [csv, why] of cases) {
    const fleet = writeFleet(`${HEADER}directory: { file: "${csv}", columns: { user: sAMAccountName } }\n`, dir);
    const run = mdmgen(['validate', fleet]);
    assert.equal(run.code, 2, run.stdout);
    assert.match(run.stdout.replace(/\s+io\/unreadable$/m, ''), why, csv);
  }
  const long = join(dir, 'x'.repeat(300));
  assert.deepEqual(mdmgen(['init', long]).stderr, `mdmgen: cannot make ${long}: the name is too long\n`);
});

test('a file named on the command line may be a pipe, read to its end; a device that never ends is refused, not read for ever', () => {
  const fleet = `${HEADER}preferences:\n  com.microsoft.Messenger: { DisallowSave: true }\n`;
  const plist = readFileSync(join(ROOT, 'examples/pulled/MAC-0217/Users/jgarcia/Library/Preferences/Microsoft/com.microsoft.Messenger.plist'));
  // Through a shell's pipe: Node gives a child's stdin as a socket, which /dev/stdin cannot open.
  const piped = (args: string[], input: string | Buffer) => {
    const file = join(tempDir(), 'input');
    writeFileSync(file, input);
    return spawnSync('sh', ['-c', 'cat "$0" | "$@"', file, process.execPath, join(ROOT, 'bin/mdmgen.js'), ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  };
  const validated = piped(['validate', '/dev/stdin'], fleet);
  assert.equal(validated.status, 0, validated.stderr);
  const inspected = piped(['inspect', '/dev/stdin'], plist);
  assert.equal(inspected.status, 0, inspected.stderr);
  assert.equal((JSON.parse(inspected.stdout) as { format: string }).format, 'xml');
  const folder = tempDir();
  assert.deepEqual([mdmgen(['inspect', folder]).code, mdmgen(['inspect', folder]).stderr], [2, `mdmgen: cannot read ${folder}: it is a folder\n`]);
  for (const command of ['inspect', 'verify']) {
    const run = mdmgen([command, '/dev/zero'], { timeout: 60_000 });
    assert.deepEqual([run.code, run.stderr], [2, 'mdmgen: cannot read /dev/zero: it is larger than 256 MB\n']);
  }
  const run = mdmgen(['validate', '/dev/zero'], { timeout: 60_000 });
  assert.equal(run.code, 2);
  assert.match(run.stdout, /cannot read .*dev\/zero: it is larger than 256 MB  io\/unreadable/);
});

test('build writes to build/ next to the fleet file by default and says what it wrote', () => {
  const dir = tempDir();
  const fleet = exampleCopy(undefined, dir);
  const run = mdmgen(['build', fleet]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  assert.match(run.stdout, /^Wrote 8 profiles \(5 of them per-user\), 6 plists, firewall ports, DNS records, the install point and install-point\.zip to .*build\/ \(listed in .*manifest\.json\)\n$/);
  assert.ok(readFileSync(join(dir, 'build', 'manifest.json')).length > 0);
});

test('schema prints the committed schemas/fleet.schema.json, which editors and ajv accept', () => {
  const run = mdmgen(['schema']);
  assert.equal(run.code, 0);
  const committed = readFileSync(join(ROOT, 'schemas', 'fleet.schema.json'), 'utf8');
  assert.equal(run.stdout, committed, 'run `npm run schema` after changing the catalogue or the schema');
  const validate = new Ajv({ allErrors: true, strict: true }).compile(JSON.parse(committed) as object);
  const example = parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;
  assert.ok(validate(example), JSON.stringify(validate.errors));
  const wrong = structuredClone(example) as { preferences: Record<string, Record<string, unknown>> };
  wrong.preferences['com.microsoft.Messenger']!.DisallowSave = 'true';
  wrong.preferences['com.microsoft.MessengerDaemon']!.AutoldleDelay = 5;
  assert.ok(!validate(wrong), 'an editor flags a string for a boolean and a misspelt key');
});

test('init writes a commented fleet.yaml and a sample users.csv that build cleanly; it replaces neither without being asked', () => {
  const dir = join(tempDir(), 'policy');
  const run = mdmgen(['init', dir]);
  assert.equal(run.code, 0, run.stderr);
  const text = readFileSync(join(dir, 'fleet.yaml'), 'utf8');
  const schemaLine = /^# yaml-language-server: \$schema=(.+)$/m.exec(text);
  assert.ok(schemaLine, 'schema line');
  assert.equal(resolve(dirname(join(dir, 'fleet.yaml')), schemaLine[1]!), join(ROOT, 'schemas', 'fleet.schema.json'));
  assert.ok(text.split('\n').filter((l) => l.includes('#')).length > 10, 'commented for a new admin');
  const built = mdmgen(['build', join(dir, 'fleet.yaml')]);
  assert.equal(built.code, 0, built.stderr);
  assert.equal(built.stderr, '', 'no warnings');
  const manifest = JSON.parse(readFileSync(join(dir, 'build', 'manifest.json'), 'utf8')) as { artifacts: { kind: string; user?: string }[] };
  assert.deepEqual(manifest.artifacts.filter((a) => a.kind === 'profile' && a.user).map((a) => a.user).sort(), ['asmith', 'jdoe', 'mlee'], 'a profile per sample user');
  // The settings left commented out are valid as they stand.
  writeFileSync(join(dir, 'uncommented.yaml'), text.replace(/^( {4})# ([A-Za-z]+: )/gm, '$1$2'));
  assert.ok(readFileSync(join(dir, 'uncommented.yaml'), 'utf8').includes('\n    PortRangeEnabled: 1'));
  const uncommented = mdmgen(['validate', join(dir, 'uncommented.yaml')]);
  assert.equal(uncommented.code, 0, uncommented.stdout);

  assert.equal(mdmgen(['init', dir]).code, 2);
  writeFileSync(join(dir, 'fleet.yaml'), 'mine');
  writeFileSync(join(dir, 'users.csv'), 'sAMAccountName,mail,userPrincipalName,department\nkim,kim@example.com,kim@CORP.EXAMPLE.COM,\n');
  assert.equal(mdmgen(['init', dir]).code, 2);
  assert.equal(readFileSync(join(dir, 'fleet.yaml'), 'utf8'), 'mine');
  const forced = mdmgen(['init', dir, '--force']);
  assert.equal(forced.code, 0);
  assert.match(forced.stdout, /kept .*users\.csv/);
  assert.match(readFileSync(join(dir, 'users.csv'), 'utf8'), /^kim,/m, 'an export is never replaced');
  assert.equal(mdmgen(['build', join(dir, 'fleet.yaml')]).code, 0);

  writeFileSync(join(dir, 'a-file'), '');
  const notFolder = mdmgen(['init', join(dir, 'a-file')]);
  assert.equal(notFolder.code, 2);
  assert.match(notFolder.stderr, /^mdmgen: \S*a-file is not a folder\n$/);
});

test('the README names every diagnostic code, so an admin can look any of them up', async () => {
  const { CODES } = await import('../src/diagnostics/diagnostic.js');
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const missing = Object.keys(CODES).filter((code) => !readme.includes(`\`${code}\``));
  assert.deepEqual(missing, []);
});

test('the package entry point exports the library, and it builds and audits without the CLI', async () => {
  const mdmgen = await import('mdmgen');
  const text = readFileSync(EXAMPLE, 'utf8').replace(/^directory:[\s\S]*?\n\n/m, '').replace(/^accounts:[\s\S]*?\n\n/m, '').replace(/^installPoint:[\s\S]*?\n\n/m, '').replace(/ {4}UserLogonName.*\n {4}UserSIPID.*\n/, '').replace('EnableKerberosLogin: true', 'EnableKerberosLogin: false');
  const { fleet, diagnostics } = mdmgen.checkFleet('fleet.yaml', Buffer.from(text));
  assert.deepEqual(diagnostics, []);
  const plan = await mdmgen.planBuild({ fleet: fleet!, catalog: mdmgen.loadCatalog(), fleetBytes: Buffer.from(text), plistFormat: 'xml', version: 'test' });
  const profile = plan.artifacts.find((a) => a.path === 'profiles/base.mobileconfig')!;
  const read = mdmgen.readPlist(profile.bytes).value as { PayloadIdentifier: string };
  assert.equal(read.PayloadIdentifier, 'com.example.im.preferences');
});

test('validate speaks the audit\'s formats too: sarif, junit and csv carry the same diagnostics', () => {
  const fleet = writeFleet(`${HEADER}preferences:\n  com.microsoft.MessengerDaemon:\n    AutoldleDelay: 5\n`);
  const sarif = JSON.parse(mdmgen(['validate', fleet, '--format', 'sarif']).stdout) as { runs: { results: { ruleId: string; level: string; locations: { physicalLocation: { region: { startLine: number } } }[] }[] }[] };
  assert.deepEqual(sarif.runs[0]!.results.map((r) => [r.ruleId, r.level, r.locations[0]!.physicalLocation.region.startLine]), [['schema/unknown-key', 'error', 5]]);
  const junit = mdmgen(['validate', fleet, '--format', 'junit']);
  assert.equal(junit.code, 2);
  assert.match(junit.stdout, /<failure type="schema\/unknown-key"/);
  const csvRun = mdmgen(['validate', fleet, '--format', 'csv']);
  assert.match(csvRun.stdout, /^file,host,user,group,domain,key,code,severity,expected,actual,message,line\r\n.*,schema\/unknown-key,error,,,"unknown key ""AutoldleDelay"".*",5\r\n$/);
  // The page speaks of a policy checked, not of Macs audited.
  const page = mdmgen(['validate', fleet, '--format', 'html']).stdout;
  assert.match(page, /<title>mdmgen validate: /);
  assert.match(page, /<b>1<\/b>file checked<\/div>/);
  assert.match(page, /<b>Not valid<\/b>policy/);
  assert.doesNotMatch(page, /Macs?<\/div>|Compliance per|Compliant|audited/);
  assert.match(page, /<tr data-severity="error">.*unknown key &quot;AutoldleDelay&quot;/);
});
