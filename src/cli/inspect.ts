import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { CA_SIGNER, CertificateError, readCertificates, subjectCommonName, type Certificate } from '../pki/certificates.js';
import { CmsError, isCms, judge, readSignedProfile } from '../pki/cms.js';
import { toDisplay } from '../plist/display.js';
import { PlistError, readPlist } from '../plist/read.js';
import { isDict } from '../plist/value.js';
import { escapeBeyondC0, jsonText } from '../format/terminal.js';
import { systemReason } from '../diagnostics/system-error.js';
import { EXIT, readNamed, readStdin, shownPath, type Io } from './io.js';

/** A FILE argument's bytes, `-` being standard input. */
async function readArgument(io: Io, file: string): Promise<Buffer | string> {
  const read = file === '-' ? await readStdin() : await readNamed(resolve(io.cwd, file));
  return Buffer.isBuffer(read) ? read : `cannot read ${named(file)}: ${read}`;
}

const named = (file: string) => (file === '-' ? 'standard input' : file);

function describeError(error: unknown): string {
  if (error instanceof PlistError) {
    const where = error.line !== undefined ? ` (line ${error.line})` : error.offset !== undefined ? ` (at byte 0x${error.offset.toString(16)})` : '';
    return `${error.message}${where}`;
  }
  if (error instanceof CmsError || error instanceof CertificateError) return error.message;
  throw error;
}

function certLine(cert: Certificate): string {
  return `${subjectCommonName(cert)} (valid ${cert.x509.validFrom.replace(/ GMT$/, '')} to ${cert.x509.validTo.replace(/ GMT$/, '')}, SHA-256 ${cert.sha256.slice(0, 16)}...)`;
}

/**
 * `mdmgen verify PATH... [--ca CERT]...`: each PATH a signed profile, `-`, or a folder of them (a build's
 * `profiles/`, every `.mobileconfig` beneath it). One profile is described in full; of several, a valid one
 * gets a line and an invalid one the whole description, then a count. Exit 0 all valid, 1 one invalid, 2 one
 * unreadable (the others are still verified).
 */
export async function verify(io: Io, paths: readonly string[], options: { ca?: string[] }): Promise<number> {
  const cas: Certificate[] = [];
  for (const ca of options.ca ?? []) {
    const caBytes = await readArgument(io, ca);
    if (typeof caBytes === 'string') return usage(io, caBytes);
    try {
      for (const certificate of readCertificates(caBytes)) cas.push(certificate);
    } catch (error) {
      return usage(io, `${named(ca)}: ${describeError(error)}`);
    }
  }
  const files: string[] = [];
  for (const path of paths) {
    const found = path === '-' ? [path] : await profilesIn(io, resolve(io.cwd, path));
    if (typeof found === 'string') return usage(io, found);
    if (found.length === 0) return usage(io, `${path}: no .mobileconfig in this folder`);
    files.push(...found);
  }
  const brief = files.length > 1;
  const counts = { valid: 0, invalid: 0, unreadable: 0 };
  let report = '';
  // Files are read a few ahead of the one checked, so that checking does not wait for the disk.
  const read = (file: string) => (file === '-' ? readStdin() : readNamed(file));
  const reading = files.slice(0, READ_AHEAD).map(read);
  for (const [index, file] of files.entries()) {
    const shown = file === '-' ? named(file) : shownPath(io.cwd, file) || file;
    const bytes = await reading.shift()!;
    if (index + READ_AHEAD < files.length) reading.push(read(files[index + READ_AHEAD]!));
    const verdict = typeof bytes === 'string' ? `cannot read ${shown}: ${bytes}` : verifyProfile(shown, bytes, cas, io.now());
    if (typeof verdict === 'string') {
      counts.unreadable++;
      io.stderr(`mdmgen: ${verdict}\n`);
      continue;
    }
    counts[verdict.valid ? 'valid' : 'invalid']++;
    // Written some 64 KB at a time: one write a profile was a tenth of verify's time.
    report += `${(brief && verdict.valid ? verdict.head : [...verdict.head, ...verdict.details]).join('\n')}\n`;
    if (report.length > 65_536) {
      await io.stdout(report);
      report = '';
    }
  }
  if (brief) {
    const trust = cas.length ? 'each chain checked against --ca' : 'trust not checked (give the root with --ca)';
    report += `${files.length} profiles: ${counts.valid} valid, ${counts.invalid} invalid${counts.unreadable ? `, ${counts.unreadable} unreadable` : ''}; ${trust}\n`;
  }
  await io.stdout(report);
  return counts.unreadable ? EXIT.usage : counts.invalid ? EXIT.findings : EXIT.ok;
}

const READ_AHEAD = 8;

/** A PATH given to verify: the file itself, or every `.mobileconfig` in the folder and beneath, in order. */
async function profilesIn(io: Io, path: string): Promise<string[] | string> {
  let entries;
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return [path];
    return `cannot read ${shownPath(io.cwd, path) || '.'}: ${systemReason(error)}`;
  }
  const found: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) {
      const inner = await profilesIn(io, child);
      if (typeof inner === 'string') return inner;
      found.push(...inner);
    } else if (entry.isFile() && entry.name.endsWith('.mobileconfig')) found.push(child);
  }
  return found;
}

/**
 * A signed profile judged: the verdict with its problems and warnings (head), then the signer, chain and
 * content (details); or, for a file that claims to be CMS and is not, why.
 */
function verifyProfile(shown: string, bytes: Buffer, cas: readonly Certificate[], now: Date): { valid: boolean; head: string[]; details: string[] } | string {
  if (!isCms(bytes)) return { valid: false, head: [`${shown}: INVALID: the profile is not signed`], details: [] };
  let profile;
  try {
    profile = readSignedProfile(bytes);
  } catch (error) {
    return `${shown}: ${describeError(error)}`;
  }
  const verdict = judge(profile, cas, now);
  let identifier = '(unreadable)';
  try {
    const content = readPlist(profile.content).value;
    if (isDict(content) && typeof content.PayloadIdentifier === 'string') identifier = content.PayloadIdentifier;
  } catch (error) {
    verdict.problems.push(`the signed content is not a readable plist: ${describeError(error)}`);
    verdict.valid = false;
  }
  const head = [
    `${shown}: ${verdict.valid ? 'valid signature' : `INVALID: ${verdict.problems[0]}`}`,
    ...verdict.problems.slice(1).map((p) => `  also:       ${p}`),
    ...(profile.signer?.x509.ca ? [`  warning:    ${CA_SIGNER(`the signer "${subjectCommonName(profile.signer)}"`)}`] : []),
  ];
  const details = [
    `  signer:     ${profile.signer ? certLine(profile.signer) : '(not in the file)'}`,
    ...verdict.chain.slice(1).map((c) => `  issued by:  ${certLine(c)}`),
    `  trust:      ${verdict.trusted ? 'the chain ends at a CA given with --ca' : cas.length ? 'no CA given with --ca is in the chain' : 'not checked (give the root with --ca)'}`,
    `  digest:     ${profile.digestAlgorithm}`,
    `  identifier: ${identifier}`,
  ];
  return { valid: verdict.valid, head, details };
}

/** `mdmgen inspect FILE`: any plist or profile, XML, binary or signed, printed as data. */
export async function inspect(io: Io, file: string, options: { format: 'json' | 'yaml' }): Promise<number> {
  const bytes = await readArgument(io, file);
  if (typeof bytes === 'string') return usage(io, bytes);
  let output: unknown;
  try {
    if (isCms(bytes)) {
      const profile = readSignedProfile(bytes);
      const { value, format } = readPlist(profile.content);
      output = {
        signature: {
          valid: profile.signatureValid,
          ...(profile.problems.length && { problems: profile.problems }),
          digestAlgorithm: profile.digestAlgorithm,
          signer: profile.signer ? profile.signer.x509.subject.replace(/\n/g, ', ') : null,
          certificates: profile.certificates.map((c) => ({ subject: c.x509.subject.replace(/\n/g, ', '), issuer: c.x509.issuer.replace(/\n/g, ', '), validTo: c.x509.validTo, sha256: c.sha256 })),
        },
        format,
        content: toDisplay(value),
      };
    } else {
      const { value, format } = readPlist(bytes);
      output = { format, content: toDisplay(value) };
    }
  } catch (error) {
    return usage(io, `${named(file)}: ${describeError(error)}`);
  }
  io.stdout(options.format === 'yaml' ? yamlText(output) : jsonText(output));
  return EXIT.ok;
}

/**
 * YAML with C1 and bidirectional characters escaped, as jsonText does. The yaml package writes them raw,
 * even in double quotes, so output holding any is written again with every string double-quoted, where
 * `\uXXXX` is an escape.
 */
function yamlText(output: unknown): string {
  const text = stringify(output);
  return escapeBeyondC0(text) === text ? text : escapeBeyondC0(stringify(output, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'QUOTE_DOUBLE' }));
}

function usage(io: Io, message: string): number {
  io.stderr(`mdmgen: ${message}\n`);
  return EXIT.usage;
}
