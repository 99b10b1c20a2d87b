import { isUtf8 } from 'node:buffer';
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, resolve, sep } from 'node:path';
import type { ProgramFile } from '../install-point/install-point.js';
import { readDirectory, type Directory } from '../directory/directory.js';
import { CODES, sortDiagnostics, type Code, type Diagnostic, type KeyPath } from '../diagnostics/diagnostic.js';
import { checkFleet } from '../fleet/check.js';
import { expiredExemptions } from '../fleet/exemptions.js';
import type { Fleet, SecretRef, User } from '../fleet/model.js';
import { checkUsers } from '../fleet/users.js';
import type { Certificate } from '../pki/certificates.js';
import type { SigningIdentity } from '../pki/identity.js';
import { systemReason } from '../diagnostics/system-error.js';
import { firstInvalidXmlChar } from '../source/utf8.js';
import { locate, type YamlSource } from '../source/yaml-source.js';
import { readNamed, shownPath, type Io } from './io.js';

// The edge where mdmgen reads what fleet.yaml points at: the directory, certificates, keys and secrets.
// Everything after this is pure. Each loader reports at the fleet.yaml line that named the file.

export interface Loaded {
  diagnostics: Diagnostic[];
  fleet?: Fleet;
  source?: YamlSource;
  users?: Directory;
  bytes?: Buffer;
}

export async function loadPolicy(io: Io, file: string): Promise<Loaded> {
  const path = resolve(io.cwd, file);
  const display = shownPath(io.cwd, path) || file;
  const fleetBytes = await readInput(display, path);
  if (!Buffer.isBuffer(fleetBytes)) return { diagnostics: [fleetBytes] };
  const checked = checkFleet(display, fleetBytes);
  const { fleet, source } = checked;
  if (fleet && source) checked.diagnostics = sortDiagnostics([...checked.diagnostics, ...expiredExemptions(fleet, source, io.now())]);
  if (!fleet?.directory || !source) return { ...checked, bytes: fleetBytes };

  const csvPath = resolve(dirname(path), fleet.directory.file);
  const csvDisplay = shownPath(io.cwd, csvPath) || fleet.directory.file;
  const csvBytes = await readInput(csvDisplay, csvPath);
  if (!Buffer.isBuffer(csvBytes)) return { diagnostics: sortDiagnostics([...checked.diagnostics, csvBytes]) };
  const directory = readDirectory(fleet.directory, csvDisplay, csvBytes, (keyPath) => ({ file: display, keyPath, ...locate(source, keyPath) }));
  const diagnostics = [...checked.diagnostics, ...directory.diagnostics];
  if (directory.users) diagnostics.push(...checkUsers(fleet, directory.users, csvDisplay));
  const failed = diagnostics.some((d) => d.severity === 'error');
  return failed ? { diagnostics: sortDiagnostics(diagnostics) } : { fleet, source, users: directory.users!, bytes: fleetBytes, diagnostics: sortDiagnostics(diagnostics) };
}

async function readInput(display: string, path: string): Promise<Buffer | Diagnostic> {
  const read = await readNamed(path);
  return Buffer.isBuffer(read) ? read : { code: 'io/unreadable', severity: CODES['io/unreadable'], message: `cannot read ${display}: ${read}`, file: display };
}

/** Files named in fleet.yaml are relative to it. */
function near(fleetPath: string, file: string): string {
  return resolve(dirname(fleetPath), file);
}

function at(source: YamlSource, code: Code, message: string, keyPath: KeyPath): Diagnostic {
  return { code, severity: CODES[code], message, file: source.file, keyPath, ...locate(source, keyPath) };
}

/**
 * A secret, from the environment or a file, at build time. A problem names the variable or the file,
 * never the value.
 */
async function resolveSecret(io: Io, fleetPath: string, ref: SecretRef, what: string): Promise<{ value: string } | { code: 'secret/missing' | 'secret/invalid'; message: string }> {
  const name = 'env' in ref ? `environment variable ${ref.env}` : `file ${ref.file}`;
  const value = 'env' in ref
    ? io.env[ref.env]
    : await readNamed(near(fleetPath, ref.file)).then((read) => (Buffer.isBuffer(read) ? read.toString('utf8').replace(/\r?\n$/, '') : undefined));
  if (value === undefined || value === '') {
    const why = value === '' ? 'is empty' : 'env' in ref ? 'is not set' : 'cannot be read';
    return { code: 'secret/missing', message: `${what}: the ${name} ${why}` };
  }
  if (firstInvalidXmlChar(value) >= 0) return { code: 'secret/invalid', message: `${what}: the ${name} holds a character a plist cannot carry` };
  return { value };
}

export async function resolveAccountSecrets(io: Io, fleetPath: string, fleet: Fleet, source: YamlSource): Promise<{ secrets: Map<number, string>; diagnostics: Diagnostic[] }> {
  const secrets = new Map<number, string>();
  const diagnostics: Diagnostic[] = [];
  for (const [index, account] of fleet.accounts.entries()) {
    if (!account.password || account.authentication !== 'password') continue;
    const keyPath = [...account.keyPath, 'password'];
    const secret = await resolveSecret(io, fleetPath, account.password, `accounts[${index}].password`);
    if ('value' in secret) secrets.set(index, secret.value);
    else diagnostics.push(at(source, secret.code, secret.message, keyPath));
  }
  return { secrets, diagnostics };
}

export async function loadAnchors(io: Io, fleetPath: string, fleet: Fleet, source: YamlSource): Promise<{ anchors: Certificate[]; diagnostics: Diagnostic[] }> {
  if (fleet.trust.length === 0) return { anchors: [], diagnostics: [] };
  // node-forge and the certificate code load only for fleets that use them.
  const { CertificateError, readCertificates } = await import('../pki/certificates.js');
  const { checkAnchors } = await import('../pki/anchors.js');
  const diagnostics: Diagnostic[] = [];
  const files: { spec: Fleet['trust'][number]; certs: Certificate[] }[] = [];
  for (const spec of fleet.trust) {
    const read = await readNamed(near(fleetPath, spec.file));
    try {
      if (!Buffer.isBuffer(read)) throw new CertificateError(read);
      files.push({ spec, certs: readCertificates(read) });
    } catch (error) {
      if (!(error instanceof CertificateError)) throw error;
      diagnostics.push(at(source, 'trust/unreadable', `${spec.file}: ${error.message}`, [...spec.keyPath, 'file']));
    }
  }
  const { anchors, problems } = checkAnchors(files, io.now());
  return { anchors, diagnostics: [...diagnostics, ...problems.map((p) => at(source, p.code, p.message, p.keyPath))] };
}

export async function loadSigning(io: Io, fleetPath: string, fleet: Fleet, source: YamlSource, anchors: readonly Certificate[]): Promise<{ identity?: SigningIdentity; diagnostics: Diagnostic[] }> {
  const signing = fleet.signing;
  if (!signing) return { diagnostics: [] };
  const { checkIdentity, IdentityError, loadIdentity } = await import('../pki/identity.js');
  const read = async (file: string, key: KeyPath): Promise<Buffer | Diagnostic> => {
    const bytes = await readNamed(near(fleetPath, file));
    return Buffer.isBuffer(bytes) ? bytes : at(source, 'signing/unreadable', `cannot read ${file}: ${bytes}`, key);
  };
  const files: Record<string, Buffer | Diagnostic | undefined> = {
    certificate: signing.certificate === undefined ? undefined : await read(signing.certificate, ['signing', 'certificate']),
    key: signing.key === undefined ? undefined : await read(signing.key, ['signing', 'key']),
    pkcs12: signing.pkcs12 === undefined ? undefined : await read(signing.pkcs12, ['signing', 'pkcs12']),
  };
  const chain = await Promise.all(signing.chain.map((file, i) => read(file, ['signing', 'chain', i])));
  const failed = [...Object.values(files), ...chain].filter((f): f is Diagnostic => f !== undefined && !Buffer.isBuffer(f));
  if (failed.length) return { diagnostics: failed };

  let passphrase: string | undefined;
  if (signing.passphrase) {
    const secret = await resolveSecret(io, fleetPath, signing.passphrase, 'signing.passphrase');
    if (!('value' in secret)) return { diagnostics: [at(source, secret.code, secret.message, ['signing', 'passphrase'])] };
    passphrase = secret.value;
  }
  let identity: SigningIdentity;
  try {
    identity = loadIdentity({
      ...(files.certificate && { certificate: files.certificate as Buffer }),
      ...(files.key && { key: files.key as Buffer }),
      ...(files.pkcs12 && { pkcs12: files.pkcs12 as Buffer }),
      ...(passphrase !== undefined && { passphrase }),
      chain: chain as Buffer[],
    });
  } catch (error) {
    if (!(error instanceof IdentityError)) throw error;
    return { diagnostics: [at(source, error.code, error.message, ['signing'])] };
  }
  const diagnostics = checkIdentity(identity, io.now(), anchors).map((p) => at(source, p.code, p.message, ['signing']));
  return diagnostics.some((d) => d.severity === 'error') ? { diagnostics } : { identity, diagnostics };
}

/**
 * The program for the install point, read as it is: a file, or a folder such as the expanded installer,
 * with its executable bits. A symlink inside the program is followed (the share and the archive hold no
 * links); one that leads outside the program, or in a loop, is refused.
 */
export async function loadProgram(fleetPath: string, fleet: Fleet, source: YamlSource): Promise<{ files?: ProgramFile[]; diagnostics: Diagnostic[] }> {
  const spec = fleet.installPoint;
  if (!spec) return { diagnostics: [] };
  const keyPath = ['installPoint', 'program'];
  const fail = (message: string) => ({ diagnostics: [at(source, 'install-point/program', `${spec.program}: ${message}`, keyPath)] });
  const top = near(fleetPath, spec.program);
  let root: string;
  try {
    root = await realpath(top);
  } catch {
    return fail('no such file or folder');
  }
  const files: ProgramFile[] = [];
  const walk = async (path: string, name: string, parents: readonly string[]): Promise<string | undefined> => {
    try {
      const link = await lstat(path);
      const real = link.isSymbolicLink() ? await realpath(path).catch(() => undefined) : path;
      if (!real) return `${name} is a broken symlink`;
      if (real !== root && !real.startsWith(root + sep)) return `${name} is a symlink that leads outside the program`;
      const info = await stat(real);
      if (info.isFile()) {
        files.push({ path: name, bytes: await readFile(real), executable: (info.mode & 0o111) !== 0 });
        return undefined;
      }
      if (!info.isDirectory()) return `${name} is neither a file nor a folder`;
      if (parents.includes(real)) return `${name} is a symlink to a folder that contains it`;
      // Node names a file whose name is not UTF-8 with U+FFFD in place of its bytes, a name no call then finds.
      const entries = await readdir(real, { encoding: 'buffer' });
      const notUtf8 = entries.find((entry) => !isUtf8(entry));
      if (notUtf8) return `${name}/${notUtf8.toString()} has a name that is not UTF-8; rename it, as a Mac and the archive need UTF-8 names`;
      for (const entry of entries.map((e) => e.toString()).sort()) {
        const problem = await walk(resolve(real, entry), `${name}/${entry}`, [...parents, real]);
        if (problem) return problem;
      }
      return undefined;
    } catch (error) {
      if (!(error as NodeJS.ErrnoException).code) throw error;
      return `${name} cannot be read: ${systemReason(error)}`;
    }
  };
  const problem = await walk(top, basename(top), []);
  if (problem) return fail(problem);
  if (files.length === 0) return fail('the program folder is empty');
  return { files, diagnostics: [] };
}
