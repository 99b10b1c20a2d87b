// Property tests of the archive readers written by hand (the zip directory loop, the tar reader): random
// mutations of valid archives must only ever be read or refused with their own error, as a plist must
// (plist-properties.test.ts). Any other exception would end a whole audit instead of one finding.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { ArchiveError, crc32, readZip, tableCrc32, ZipArchive } from '../src/cli/pulled.js';
import { TarError, TarReader } from '../src/cli/tar.js';
import { tempDir } from './helpers/helpers.js';

const PLIST = '<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>DisallowSave</key><true/></dict></plist>';

/** Archives as Python writes them, each with a non-ASCII name and a name long enough for a tar's extensions. */
function pythonArchives(dir: string): { zips: Buffer[]; tars: Buffer[] } {
  const names = ['MAC-1/Users/jo/Library/Preferences/com.microsoft.Messenger.plist', `MAC-2/Users/kévin/Library/Preferences/Microsoft/${'x'.repeat(80)}/com.microsoft.Messenger.plist`];
  execFileSync('python3', ['-c', `
import io, json, sys, tarfile, zipfile
out, body, names = sys.argv[1], sys.argv[2].encode(), json.loads(sys.argv[3])
for kind, method, zip64 in (('deflated', zipfile.ZIP_DEFLATED, False), ('stored', zipfile.ZIP_STORED, False), ('zip64', zipfile.ZIP_DEFLATED, True)):
    with zipfile.ZipFile(f'{out}/{kind}.zip', 'w', method) as z:
        z.writestr(zipfile.ZipInfo('MAC-1/', (2001, 1, 1, 0, 0, 0)), b'')
        for name in names:
            with z.open(zipfile.ZipInfo(name, (2001, 1, 1, 0, 0, 0)), 'w', force_zip64=zip64) as f: f.write(body)
for fmt in ('GNU_FORMAT', 'PAX_FORMAT', 'USTAR_FORMAT'):
    with tarfile.open(f'{out}/{fmt}.tar', 'w', format=getattr(tarfile, fmt)) as t:
        for name in names if fmt != 'USTAR_FORMAT' else [names[0]]:
            info = tarfile.TarInfo(name); info.size = len(body); t.addfile(info, io.BytesIO(body))
`, dir, PLIST, JSON.stringify(names)]);
  const read = (name: string) => readFileSync(join(dir, name));
  return { zips: ['deflated.zip', 'stored.zip', 'zip64.zip'].map(read), tars: ['GNU_FORMAT.tar', 'PAX_FORMAT.tar', 'USTAR_FORMAT.tar'].map(read) };
}

const dir = tempDir();
const { zips, tars } = pythonArchives(dir);

/** Byte edits: [near a structure, where, the byte]. */
const edits = fc.array(fc.tuple(fc.boolean(), fc.nat(), fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 0x30, 0x37, 0xff))), { minLength: 1, maxLength: 6 });

/**
 * Applies the edits, most where the structures are: `near` places those (near the end of a zip, at its
 * central directory and end records; in the first bytes of a tar's 512-byte blocks, its names, sizes,
 * checksums and types).
 */
function mutate(archive: Buffer, list: [boolean, number, number][], near: (length: number, n: number) => number): Buffer {
  const bytes = Buffer.from(archive);
  for (const [structural, n, byte] of list) bytes[structural ? near(bytes.length, n) : n % bytes.length] = byte;
  return bytes;
}

test('zip: random mutations are read or refused with an ArchiveError, never another exception', { timeout: 120_000 }, async () => {
  const path = join(dir, 'mutated.zip');
  await fc.assert(fc.asyncProperty(fc.nat({ max: zips.length - 1 }), edits, fc.nat(), async (which, list, cut) => {
    const bytes = mutate(zips[which]!, list, (length, n) => length - 1 - (n % Math.min(length, 400)));
    writeFileSync(path, cut % 4 === 0 ? bytes.subarray(0, cut % bytes.length) : bytes);
    try {
      const zip = await ZipArchive.open(path);
      await readZip('mutated.zip', zip, (name) => (name.endsWith('.plist') ? 'com.microsoft.Messenger' : undefined), () => undefined, () => ({ update: () => undefined, finish: () => undefined }));
    } catch (error) {
      if (!(error instanceof ArchiveError)) throw error;
    }
  }), { numRuns: 2000 });
});

test('tar: random mutations, however the stream is cut, are read or refused with a TarError, never another exception', { timeout: 120_000 }, () => {
  fc.assert(fc.property(fc.nat({ max: tars.length - 1 }), edits, fc.nat(), fc.array(fc.integer({ min: 1, max: 1500 }), { minLength: 1, maxLength: 4 }), (which, list, cut, sizes) => {
    const bytes = mutate(tars[which]!, list, (length, n) => (n % Math.ceil(length / 512)) * 512 + ((n >> 12) % 200));
    const input = cut % 3 === 0 ? bytes.subarray(0, cut % bytes.length) : bytes;
    const reader = new TarReader<string>((name) => name, 1 << 20, () => undefined);
    try {
      for (let at = 0, k = 0; at < input.length; k++) {
        reader.push(input.subarray(at, at + sizes[k % sizes.length]!));
        at += sizes[k % sizes.length]!;
      }
      reader.end();
    } catch (error) {
      if (!(error instanceof TarError)) throw error;
    }
  }), { numRuns: 3000 });
});

test('the archives the properties mutate are read whole when left alone', async () => {
  for (const bytes of zips) {
    const path = join(dir, 'whole.zip');
    writeFileSync(path, bytes);
    const names: string[] = [];
    await readZip('whole.zip', await ZipArchive.open(path), (name) => (name.endsWith('.plist') ? 'com.microsoft.Messenger' : undefined), (pulled) => void names.push(`${pulled.host}/${pulled.user}/${Buffer.isBuffer(pulled.bytes) ? pulled.bytes.toString() === PLIST : 'unread'}`), () => ({ update: () => undefined, finish: () => undefined }));
    assert.deepEqual(names, ['MAC-1/jo/true', 'MAC-2/kévin/true']);
  }
  for (const [k, bytes] of tars.entries()) {
    const files: string[] = [];
    const reader = new TarReader<string>((name) => name, 1 << 20, (file) => void files.push(`${file.name}:${file.bytes?.toString() === PLIST}`));
    reader.push(bytes);
    reader.end();
    assert.equal(files.length, k === 2 ? 1 : 2);
    assert.ok(files.every((f) => f.endsWith(':true')), files.join());
  }
});

test('the CRC-32 written by hand for Node before 20.15 is zlib\'s', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => assert.equal(tableCrc32(bytes), crc32(bytes))));
  assert.equal(tableCrc32(Buffer.from('123456789')), 0xcbf43926, 'the check value of CRC-32/ISO-HDLC');
});
