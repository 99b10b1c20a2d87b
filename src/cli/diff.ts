import { join, resolve, sep } from 'node:path';
import { compareManifests, diffText, plistSettings, profileSettings, type ManifestArtifact } from '../diff/diff.js';
import { jsonText } from '../format/terminal.js';
import { PlistError, readPlist } from '../plist/read.js';
import { EXIT, readNamed, shownPath, type Io } from './io.js';

/**
 * `mdmgen diff OLD NEW`: what changes between two builds (two output folders), by their manifest.json: the
 * files added, removed or changed, and for profiles and plists the settings that did. Exit 0 the same,
 * 1 different (as diff(1)), 2 a folder that is not a build.
 */
export async function diff(io: Io, oldDir: string, newDir: string, options: { format: 'text' | 'json' }): Promise<number> {
  const roots = [resolve(io.cwd, oldDir), resolve(io.cwd, newDir)] as const;
  const manifests = await Promise.all(roots.map((root) => readManifest(io, root)));
  for (const manifest of manifests) {
    if (typeof manifest === 'string') {
      io.stderr(`mdmgen: ${manifest}\n`);
      return EXIT.usage;
    }
  }
  const [before, after] = manifests as ManifestArtifact[][];
  const changes = await compareManifests(before!, after!, async (artifact, side) => {
    const bytes = await readNamed(join(roots[side === 'old' ? 0 : 1], artifact.path));
    if (!Buffer.isBuffer(bytes)) return undefined;
    // node-forge loads only for a build that is signed.
    const cms = bytes[0] === 0x30 ? await import('../pki/cms.js') : undefined;
    const { CertificateError } = cms ? await import('../pki/certificates.js') : { CertificateError: PlistError };
    try {
      const { value } = readPlist(cms?.isCms(bytes) ? cms.readSignedProfile(bytes).content : bytes);
      return artifact.kind === 'profile' ? profileSettings(value) : plistSettings(value);
    } catch (error) {
      // A file the manifest lists that is no longer a plist is still said to have changed, without its settings.
      if (error instanceof PlistError || (cms && error instanceof cms.CmsError) || error instanceof CertificateError) return undefined;
      throw error;
    }
  });
  if (options.format === 'json') {
    const count = (c: string) => changes.filter((x) => x.change === c).length;
    await io.stdout(jsonText({ summary: { changed: count('changed'), added: count('added'), removed: count('removed') }, artifacts: changes }));
  } else {
    for (const piece of diffText(changes)) await io.stdout(piece);
  }
  return changes.length ? EXIT.findings : EXIT.ok;
}

/** A build's manifest.json, its artifacts checked to be inside the build; or why it cannot be had. */
async function readManifest(io: Io, root: string): Promise<ManifestArtifact[] | string> {
  const shown = shownPath(io.cwd, root) || '.';
  const bytes = await readNamed(join(root, 'manifest.json'));
  if (!Buffer.isBuffer(bytes)) return `${shown} is not a build of mdmgen: cannot read its manifest.json (${bytes})`;
  let artifacts: unknown;
  try {
    artifacts = (JSON.parse(bytes.toString('utf8')) as { artifacts?: unknown }).artifacts;
  } catch {
    return `${shown}/manifest.json is not JSON`;
  }
  const valid = (a: unknown): a is ManifestArtifact => typeof a === 'object' && a !== null
    && typeof (a as ManifestArtifact).path === 'string' && typeof (a as ManifestArtifact).kind === 'string' && typeof (a as ManifestArtifact).sha256 === 'string'
    && resolve(root, (a as ManifestArtifact).path).startsWith(root + sep);
  if (!Array.isArray(artifacts) || !artifacts.every(valid)) return `${shown}/manifest.json does not list a build's artifacts (each a path inside the folder, a kind and a sha256)`;
  return artifacts;
}
