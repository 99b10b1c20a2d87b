import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { sortedLines, SortedSpool } from '../src/cli/spool.js';
import { tempDir } from './helpers/helpers.js';

// The spool keeps an audit's findings in order in bounded memory; whether it holds them or writes them to
// its file, what comes out must be exactly a stable sort of what went in.

interface Item { key: number; seq: number; text: string }
const byKey = (a: Item, b: Item) => a.key - b.key;

/** A small deterministic generator (xorshift), so a failure can be replayed. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** Runs `body` with the temporary folder set to `dir`. */
function withTmp<T>(dir: string, body: () => T): T {
  const before = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    return body();
  } finally {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
  }
}

// Text that JSON lines must carry: newlines, U+2028, quotes, a lone surrogate, characters of 2, 3 and 4
// UTF-8 bytes (long enough that a 16 KB read ends inside one).
const TEXTS = ['plain', 'two\nlines', 'sep\u2028arator', '"quoted" \\ back', 'lone \ud800 surrogate', 'é', '€'.repeat(9000), '😀'.repeat(5000), ''];

test('items pushed one by one come out as a stable sort, whatever the memory limit', () => {
  for (const [seed, limit] of [[1, 1], [2, 512], [3, 5000], [4, 1 << 20]] as const) {
    const next = random(seed);
    const items: Item[] = Array.from({ length: 300 }, (_, seq) => ({ key: Math.floor(next() * 20), seq, text: TEXTS[seq % TEXTS.length]! }));
    const spool = withTmp(tempDir(), () => {
      const made = new SortedSpool<Item>(byKey, limit);
      for (const item of items) made.push(item);
      return made;
    });
    try {
      const expected = [...items].sort(byKey);
      assert.deepEqual([...spool], expected, `seed ${seed}, limit ${limit}`);
      assert.deepEqual([...spool], expected, 'read a second time');
    } finally {
      spool.close();
    }
  }
});

test('runs made by sortedLines and single items merge into one order', () => {
  const next = random(7);
  const keys = Array.from({ length: 400 }, (_, i) => i).sort(() => next() - 0.5);
  const items: Item[] = keys.map((key, seq) => ({ key, seq, text: TEXTS[seq % TEXTS.length]! }));
  for (const limit of [1, 30_000, 1 << 20]) {
    const spool = withTmp(tempDir(), () => {
      const made = new SortedSpool<Item>(byKey, limit);
      // Shares of 1 to 40 items, as threads send them, and loose items, as one thread finds them.
      for (let i = 0; i < items.length;) {
        const size = 1 + Math.floor(next() * 40);
        const share = items.slice(i, i + size);
        if (size % 3 === 0) share.forEach((item) => made.push(item));
        else made.pushRun(sortedLines(share, byKey));
        i += size;
      }
      return made;
    });
    try {
      assert.deepEqual([...spool], [...items].sort(byKey), `limit ${limit}`);
    } finally {
      spool.close();
    }
  }
});

test('runs keep the order they came in on ties, whether written to the file or still held', () => {
  const next = random(11);
  const items: Item[] = Array.from({ length: 600 }, (_, seq) => ({ key: Math.floor(next() * 5), seq, text: TEXTS[seq % TEXTS.length]! }));
  for (const limit of [1, 200_000, 1 << 20]) {
    const spool = withTmp(tempDir(), () => {
      const made = new SortedSpool<Item>(byKey, limit);
      for (let i = 0; i < items.length; i += 50) made.pushRun(sortedLines(items.slice(i, i + 50), byKey));
      return made;
    });
    try {
      assert.deepEqual([...spool].map((item) => item.seq), [...items].sort(byKey).map((item) => item.seq), `limit ${limit}`);
    } finally {
      spool.close();
    }
  }
});

test('the file is unlinked at once: nothing is left in the temporary folder, even before the spool is closed', () => {
  const dir = tempDir();
  // Loose items count toward the limit too (as about 512 bytes each): 4 KB is passed at the eighth.
  const spool = withTmp(dir, () => {
    const made = new SortedSpool<Item>(byKey, 4096);
    for (let seq = 0; seq < 50; seq++) made.push({ key: 50 - seq, seq, text: 'x' });
    return made;
  });
  const open = readdirSync('/proc/self/fd').map((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; } });
  assert.ok(open.some((target) => target.startsWith(dir) && target.endsWith(' (deleted)')), `the spool holds its file open: ${open.join(', ')}`);
  assert.deepEqual(readdirSync(dir), []);
  assert.equal([...spool].length, 50);
  spool.close();
  assert.deepEqual(readdirSync(dir), []);
});

test('a temporary folder that cannot be written keeps the items in memory, in the same order', () => {
  const items: Item[] = Array.from({ length: 100 }, (_, seq) => ({ key: (seq * 37) % 11, seq, text: 'y' }));
  const spool = withTmp(join(tempDir(), 'missing'), () => {
    const made = new SortedSpool<Item>(byKey, 1);
    items.forEach((item) => made.push(item));
    return made;
  });
  assert.deepEqual([...spool], [...items].sort(byKey));
  spool.close();
});
