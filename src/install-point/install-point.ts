import { createHash } from 'node:crypto';
import { template } from '../precompiled.js';
import type { Artifact } from '../compile/plan.js';
import type { Directory } from '../directory/directory.js';
import type { Fleet } from '../fleet/model.js';
import { get } from '../fleet/rules.js';
import { render } from '../fleet/templates.js';
import { subjectCommonName, type Certificate } from '../pki/certificates.js';

/** A file of the program as read from disk: path relative to the program's parent, bytes, executable or not. */
export interface ProgramFile {
  path: string;
  bytes: Buffer;
  executable: boolean;
}

export interface InstallPointEntry {
  /** Relative to the install point, '/'-separated. */
  path: string;
  bytes: Buffer;
  mode: 0o644 | 0o755;
}

const DAEMON = 'com.microsoft.MessengerDaemon';

/** A value inside single quotes for sh: nothing in it is expanded. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The network installation point of the guide ("Installing Messenger for Mac on the client"): the program
 * as it is, the group and trust profiles, the certificates, the preference files with a script that installs
 * and locks them, an uninstall script, instructions for users, and SHA256SUMS over everything else.
 * Per-user profiles stay out: the share is readable by everyone, and they hold one user's values.
 */
export function installPointEntries(fleet: Fleet, artifacts: readonly Artifact[], program: readonly ProgramFile[], anchors: readonly Certificate[], users: Directory | undefined): InstallPointEntry[] {
  const spec = fleet.installPoint!;
  const entries: InstallPointEntry[] = program.map((f) => ({ path: f.path, bytes: f.bytes, mode: f.executable ? 0o755 : 0o644 }));
  const copy = (from: string, to: string) => {
    for (const a of artifacts.filter((x) => x.path.startsWith(from) && !x.path.startsWith('profiles/users/'))) {
      entries.push({ path: to + a.path.slice(from.length), bytes: a.bytes, mode: 0o644 });
    }
  };
  copy('profiles/', 'Profiles/');
  copy('certificates/', 'Certificates/');
  copy('plists/', 'Preferences/');

  const base = fleet.base;
  const mode = get(base, DAEMON, 'RTCConfigurationMode')?.value;
  const server = get(base, DAEMON, 'RTCServerAddress')?.value;
  const kerberos = get(base, DAEMON, 'EnableKerberosLogin')?.value === true;
  const logon = get(base, DAEMON, 'UserLogonName');
  const sampleLogon = logon ? (logon.template && users?.size ? render(String(logon.value), users.at(0).values) : String(logon.value)) : undefined;
  const realm = sampleLogon?.includes('@') ? sampleLogon.split('@').pop() : undefined;
  const groups = [{ name: 'base', folder: 'base' }, ...fleet.groups.map((g) => ({ name: g.name, folder: g.slug }))];
  const context = {
    organization: fleet.organization.name,
    title: spec.title,
    share: spec.share ?? null,
    program: program[0]?.path.split('/')[0] ?? '',
    manual: mode === 1 && typeof server === 'string' ? { server, transport: get(base, DAEMON, 'RTCTransport')?.value === 2 ? 'TCP' : 'TLS' } : null,
    userId: kerberos ? { kerberos: true, example: `someone@${realm ?? 'YOUR.KERBEROS.REALM'}`, realm: realm ?? null } : logon ? { kerberos: false, example: sampleLogon ?? null, realm: realm ?? null } : null,
    certificates: anchors.map((c) => ({ name: subjectCommonName(c), file: artifacts.find((a) => a.path.startsWith('certificates/') && a.path.endsWith('.cer') && a.bytes.equals(c.der))!.path.slice('certificates/'.length) })),
    jabber: fleet.accounts.filter((a) => a.type === 'jabber').map((a) => ({ host: a.host, port: a.port ?? 5222, ssl: a.ssl ?? false, kerberos: a.authentication === 'kerberos' })),
    profiles: artifacts.some((a) => a.path.startsWith('profiles/') && !a.path.startsWith('profiles/users/')),
    groups,
    groupNames: groups.map((g) => g.folder).join(' '),
    application: shellQuote(spec.application),
    applicationText: spec.application,
  };
  entries.push(
    { path: 'Read Me.txt', bytes: Buffer.from(template('install-point/read-me.txt.hbs')(context)), mode: 0o644 },
    { path: 'install-preferences.sh', bytes: Buffer.from(template('install-point/install-preferences.sh.hbs')(context)), mode: 0o755 },
    { path: 'uninstall.sh', bytes: Buffer.from(template('install-point/uninstall.sh.hbs')(context)), mode: 0o755 },
  );
  entries.sort((a, b) => (a.path < b.path ? -1 : 1));
  const sums = entries.map((e) => `${createHash('sha256').update(e.bytes).digest('hex')}  ${e.path}`).join('\n');
  entries.push({ path: 'SHA256SUMS', bytes: Buffer.from(`${sums}\n`), mode: 0o644 });
  return entries;
}

/** The note for the admin who publishes the share (kept outside the install point, which users read). */
export function adminNote(fleet: Fleet, archive: string | undefined): Buffer {
  return Buffer.from(template('install-point/admin.txt.hbs')({
    organization: fleet.organization.name,
    title: fleet.installPoint!.title,
    share: fleet.installPoint!.share ?? null,
    archive: archive ?? null,
  }));
}

/**
 * Entry names are checked before archiver sees them: it strips only a leading "../" or "/", and a name
 * that differs from another only in case is one file on a Mac. Returns the problems, empty when clean.
 */
export function entryNameProblems(paths: readonly string[]): string[] {
  const problems: string[] = [];
  const folded = new Map<string, string>();
  for (const path of paths) {
    const parts = path.split('/');
    if (path.startsWith('/') || /^[A-Za-z]:/.test(path) || path.includes('\\') || path.includes('\0')) problems.push(`"${path}" is not a relative path`);
    else if (parts.some((p) => p === '..' || p === '.' || p === '')) problems.push(`"${path}" has an empty, "." or ".." part`);
    else if (parts.some((p) => Buffer.byteLength(p) > 255)) problems.push(`"${path}" has a name longer than 255 bytes`);
    const key = path.normalize('NFD').toLowerCase();
    const other = folded.get(key);
    if (other !== undefined) problems.push(`"${path}" and "${other}" are one name on a Mac`);
    folded.set(key, path);
  }
  return problems;
}
