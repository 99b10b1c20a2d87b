import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TarError, TarReader, type TarFile } from '../src/cli/tar.js';
import { tempDir } from './helpers/helpers.js';

/**
 * Python's tarfile writes each format and lists what it wrote: the oracle. Every kind of entry a pull can
 * hold is there: names long enough for a GNU long name, a pax path or a ustar prefix, a non-ASCII name, a
 * folder, links, an empty file, a file that spans blocks, and "./" in front.
 */
const WRITE = `
import hashlib, io, json, sys, tarfile
path, fmt = sys.argv[1], getattr(tarfile, sys.argv[2])
deep = './MAC-0001/Users/' + 'a' * 60 + '/Library/Preferences/Microsoft/' + 'b' * 40 + '/com.microsoft.Messenger.plist'
files = [('./MAC-0001/Users/jo/Library/Preferences/com.microsoft.Messenger.plist', b'<plist/>' * 3),
         (deep, b'x' * 1500), ('empty.plist', b''), ('Users/jos\\u00e9/caf\\u00e9.plist' if fmt != tarfile.USTAR_FORMAT else 'Users/jose/cafe.plist', bytes(range(256)) * 2)]
listed = []
with tarfile.open(path, 'w', format=fmt) as t:
    d = tarfile.TarInfo('./MAC-0001/'); d.type = tarfile.DIRTYPE; t.addfile(d)
    for name, data in files:
        info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
        listed.append([name[2:] if name.startswith('./') else name, len(data), hashlib.sha256(data).hexdigest()])
    s = tarfile.TarInfo('link'); s.type = tarfile.SYMTYPE; s.linkname = 'l' * (150 if fmt != tarfile.USTAR_FORMAT else 90); t.addfile(s)
    o = tarfile.TarInfo('old-folder/'); o.type = tarfile.AREGTYPE; t.addfile(o)
    h = tarfile.TarInfo('hard'); h.type = tarfile.LNKTYPE; h.linkname = 'empty.plist'; t.addfile(h)
print(json.dumps(listed))
`;

type Seen = [string, number, string | null];
const seen = (files: TarFile<string>[]): Seen[] => files.map((f) => [f.name, f.size, f.bytes ? createHash('sha256').update(f.bytes).digest('hex') : null]);

/** Feeds `bytes` to a reader in chunks of the sizes `sizes` gives, cycling. */
function readAll(bytes: Buffer, sizes: number[], maxBytes = 1 << 20): Seen[] {
  const files: TarFile<string>[] = [];
  const reader = new TarReader<string>((name) => name, maxBytes, (file) => files.push(file));
  for (let at = 0, k = 0; at < bytes.length; k++) {
    const size = sizes[k % sizes.length]!;
    reader.push(bytes.subarray(at, at + size));
    at += size;
  }
  reader.end();
  return seen(files);
}

function pythonTar(format: string): { bytes: Buffer; listed: [string, number, string][] } {
  const path = join(tempDir(), 'pull.tar');
  const listed = JSON.parse(execFileSync('python3', ['-c', WRITE, path, format], { encoding: 'utf8' })) as [string, number, string][];
  return { bytes: readFileSync(path), listed };
}

for (const format of ['GNU_FORMAT', 'PAX_FORMAT', 'USTAR_FORMAT']) {
  test(`tar (${format} as Python's tarfile writes it): every regular file, its name and its bytes, however the stream is cut`, () => {
    const { bytes, listed } = pythonTar(format);
    for (const sizes of [[bytes.length], [1], [511, 513, 7, 4096], [100, 1, 2000]]) assert.deepEqual(readAll(bytes, sizes), listed, `chunks of ${sizes.join(', ')}`);
    // A file over maxBytes is listed with its size but not read.
    assert.deepEqual(readAll(bytes, [bytes.length], 1000).map(([name, size, hash]) => [name, size, hash === null]), listed.map(([name, size]) => [name, size, size > 1000]));
  });
}

test('tar: two blocks of zeros end the archive and nothing after them is read; one alone is passed over', () => {
  const first = pythonTar('GNU_FORMAT');
  const second = pythonTar('PAX_FORMAT');
  const zeroBlock = Buffer.alloc(512);
  let end = 0;
  while (!first.bytes.subarray(end, end + 1024).equals(Buffer.alloc(1024))) end += 512;
  const garbage = Buffer.alloc(4096, 0x41);
  const files: string[] = [];
  const reader = new TarReader<string>((name) => name, 1 << 20, (file) => files.push(file.name));
  reader.push(Buffer.concat([first.bytes.subarray(0, end), zeroBlock, second.bytes, garbage]));
  reader.end();
  assert.equal(reader.ended, true);
  assert.deepEqual(files, [...first.listed, ...second.listed].map(([name]) => name));
  assert.throws(() => readAll(Buffer.concat([first.bytes.subarray(0, end), garbage]), [1 << 20]), TarError, 'the garbage is read when no end marker comes before it');
});

/** The header at `at` with fields (by offset) replaced and its checksum made again (unsigned, or signed as old tars did). */
function patched(bytes: Buffer, at: number, fields: Record<number, Buffer | string>, signed = false): Buffer {
  const copy = Buffer.from(bytes);
  for (const [offset, field] of Object.entries(fields)) Buffer.from(field as string, 'latin1').copy(copy, at + Number(offset));
  copy.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = at; i < at + 512; i++) sum += signed && copy[i]! >= 0x80 ? copy[i]! - 0x100 : copy[i]!;
  copy.write(`${(sum & 0o777777).toString(8).padStart(6, '0')}\0 `, at + 148, 'latin1');
  return copy;
}

const octalSize = (size: number) => `${size.toString(8).padStart(11, '0')}\0`;

test('tar: a size in GNU base-256, a checksum summed as signed chars, and a file of a V7 tar (type NUL, no magic) are read', () => {
  const { bytes, listed } = pythonTar('USTAR_FORMAT');
  const firstFile = 512; // after the folder's header
  const base256 = Buffer.alloc(12);
  base256[0] = 0x80;
  base256.writeUInt32BE(24, 8);
  assert.deepEqual(readAll(patched(bytes, firstFile, { 124: base256 }), [bytes.length]), listed);
  const signed = readAll(patched(bytes, firstFile, { 60: Buffer.from([0xe9]) }, true), [bytes.length]);
  assert.deepEqual(signed.slice(1), listed.slice(1));
  assert.equal(signed[0]![0], `${listed[0]![0].slice(0, 58)}\ufffd${listed[0]![0].slice(59)}`);
  assert.deepEqual(readAll(patched(bytes, firstFile, { 156: '\0', 257: Buffer.alloc(8) }), [bytes.length]), listed);
});

test('tar: a damaged header, a stream cut in the middle of an entry or a hostile pax header is a TarError with its byte offset', () => {
  const { bytes } = pythonTar('PAX_FORMAT');
  const damaged = Buffer.from(bytes);
  damaged[512 + 10]! ^= 0x01;
  const cases: [string, Buffer, RegExp][] = [
    ['a flipped byte', damaged, /^the header at byte 512 of the uncompressed stream has a wrong checksum/],
    ['a size with a letter in it', patched(bytes, 512, { 124: '00000000x30\0' }), /^the header at byte 512 .* has a size that is not an octal number/],
    ['the stream cut inside a pax header', bytes.subarray(0, 512 * 3 + 100), /^the archive ends in the middle of an entry \(byte 1636 /],
    ['a pax header of 2 MB', patched(bytes, 0, { 124: octalSize(2 << 20), 156: 'x' }), /^the pax header at byte 0 of the uncompressed stream claims 2097152 bytes$/],
    ['a pax header whose records do not parse', Buffer.concat([patched(bytes.subarray(0, 512), 0, { 124: octalSize(512), 156: 'x' }), Buffer.alloc(512, 0x41)]), /^the pax header before byte 1024 .* has a malformed record$/],
    ['a pax size that is not a number', Buffer.concat([patched(bytes.subarray(0, 512), 0, { 124: octalSize(12), 156: 'x' }), Buffer.from('12 size=-12\n'.padEnd(512, '\0')), bytes.subarray(512)]), /has a size that is not a number: "-12"/],
  ];
  for (const [what, tar, message] of cases) assert.throws(() => readAll(tar, [tar.length]), (e: Error) => e instanceof TarError && message.test(e.message), what);
});
