import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { CA_SIGNER, CertificateError, readCertificates, subjectCommonName, type Certificate } from '../pki/certificates.js';
import { CmsError, isCms, judge, readSignedProfile } from '../pki/cms.js';
import { toDisplay } from '../plist/display.js';
import { PlistError, readPlist } from '../plist/read.js';
import { isDict } from '../plist/value.js';
import { escapeBeyondC0, jsonText } from '../format/terminal.js';
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

/** `mdmgen verify FILE [--ca CERT]...`: 0 valid, 1 invalid (with the reason), 2 unreadable. */
export async function verify(io: Io, file: string, options: { ca?: string[] }): Promise<number> {
  const bytes = await readArgument(io, file);
  if (typeof bytes === 'string') return usage(io, bytes);
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
  const shown = file === '-' ? named(file) : shownPath(io.cwd, resolve(io.cwd, file)) || file;
  if (!isCms(bytes)) {
    io.stdout(`${shown}: INVALID: the profile is not signed\n`);
    return EXIT.findings;
  }
  let profile;
  try {
    profile = readSignedProfile(bytes);
  } catch (error) {
    return usage(io, `${shown}: ${describeError(error)}`);
  }
  const verdict = judge(profile, cas, io.now());
  let identifier = '(unreadable)';
  try {
    const content = readPlist(profile.content).value;
    if (isDict(content) && typeof content.PayloadIdentifier === 'string') identifier = content.PayloadIdentifier;
  } catch (error) {
    verdict.problems.push(`the signed content is not a readable plist: ${describeError(error)}`);
    verdict.valid = false;
  }
  const lines = [
    `${shown}: ${verdict.valid ? 'valid signature' : `INVALID: ${verdict.problems[0]}`}`,
    ...verdict.problems.slice(1).map((p) => `  also:       ${p}`),
    ...(profile.signer?.x509.ca ? [`  warning:    ${CA_SIGNER(`the signer "${subjectCommonName(profile.signer)}"`)}`] : []),
    `  signer:     ${profile.signer ? certLine(profile.signer) : '(not in the file)'}`,
    ...verdict.chain.slice(1).map((c) => `  issued by:  ${certLine(c)}`),
    `  trust:      ${verdict.trusted ? 'the chain ends at a CA given with --ca' : cas.length ? 'no CA given with --ca is in the chain' : 'not checked (give the root with --ca)'}`,
    `  digest:     ${profile.digestAlgorithm}`,
    `  identifier: ${identifier}`,
  ];
  io.stdout(`${lines.join('\n')}\n`);
  return verdict.valid ? EXIT.ok : EXIT.findings;
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
