import { TarArchive, ZipArchive } from 'archiver';
import type { InstallPointEntry } from './install-point.js';

/** Every entry's date: archiver's default is now, which would make every build's archive differ. */
const FIXED_DATE = new Date(Date.UTC(2001, 0, 1));

/**
 * The install point as one archive with identical bytes on every build: sorted entries, folders listed
 * explicitly, a fixed date, modes 0644 and 0755 only, no owners, no symlinks (entries are bytes).
 */
export async function archiveInstallPoint(entries: readonly InstallPointEntry[], format: 'zip' | 'tar.gz', root: string): Promise<Buffer> {
  const archive = format === 'zip'
    ? new ZipArchive({ zlib: { level: 9 }, forceLocalTime: false })
    : new TarArchive({ gzip: true, gzipOptions: { level: 9 } });
  const chunks: Buffer[] = [];
  archive.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    archive.on('end', () => resolve());
    archive.on('error', reject);
    archive.on('warning', reject);
  });
  const folders = new Set<string>([`${root}/`]);
  for (const { path } of entries) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) folders.add(`${root}/${parts.slice(0, i).join('/')}/`);
  }
  const all = [
    ...[...folders].map((name) => ({ name, bytes: Buffer.alloc(0), mode: 0o755 })),
    ...entries.map((e) => ({ name: `${root}/${e.path}`, bytes: e.bytes, mode: e.mode })),
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const { name, bytes, mode } of all) archive.append(bytes, { name, mode, date: FIXED_DATE });
  await archive.finalize();
  await done;
  return Buffer.concat(chunks);
}
