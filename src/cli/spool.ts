import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What a spool holds in memory before it writes to its file: about 2,000 findings. */
export const SPOOL_BYTES = 1 << 20;
/** An item held as an object, for that budget: a finding's JSON line is about as long. */
const ITEM_BYTES = 512;
/** A run is read 16 KB at a time: a merge reads every run at once. */
const CHUNK = 1 << 14;

/**
 * Items put in order in bounded memory, for a report that must be sorted but may be larger than memory
 * (an audit of 100,000 Macs all off the policy has 320,000 findings, which took 131 MB held to the end).
 * Items come one at a time (`push`) or as runs already in order (`pushRun`, JSON lines, which an audit
 * thread makes of its share's findings: a string is cheaper to send between threads than objects). Past
 * `limit` bytes, what is held is written, as sorted runs of JSON lines, to a file of the system's temporary
 * folder, and the runs are merged as the items are read. Ties keep the order of `push` within a run, and
 * runs keep the order they came in. The file is unlinked as soon as it is opened, so nothing is left
 * behind even by a killed process; if it cannot be made or written, the items stay in memory. Iterable
 * again and again, once every item is in.
 */
export class SortedSpool<T> implements Iterable<T> {
  private held: T[] = [];
  private sorted = true;
  /** Runs held in memory. */
  private readonly texts: string[] = [];
  private textBytes = 0;
  /** Runs written to the file. */
  private readonly runs: { start: number; end: number }[] = [];
  private fd: number | undefined;
  private written = 0;
  private failed = false;
  private readonly compare: (a: T, b: T) => number;
  private readonly limit: number;

  constructor(compare: (a: T, b: T) => number, limit = SPOOL_BYTES) {
    this.compare = compare;
    this.limit = limit;
  }

  push(item: T): void {
    this.held.push(item);
    this.sorted = false;
    this.check();
  }

  /** A run in order, as `sortedLines` makes it. */
  pushRun(lines: string): void {
    if (!lines) return;
    this.texts.push(lines);
    this.textBytes += lines.length;
    this.check();
  }

  [Symbol.iterator](): Iterator<T> {
    if (!this.sorted) this.held.sort(this.compare);
    this.sorted = true;
    return this.runs.length || this.texts.length ? this.merge() : this.held[Symbol.iterator]();
  }

  /** Closes the file; its space is freed. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private check(): void {
    if (!this.failed && this.textBytes + this.held.length * ITEM_BYTES >= this.limit) this.spill();
  }

  private spill(): void {
    if (this.held.length) {
      const run = sortedLines(this.held, this.compare);
      this.held = [];
      this.texts.push(run);
      this.textBytes += run.length;
    }
    try {
      this.fd ??= openUnlinked();
      for (let text; (text = this.texts[0]) !== undefined; this.texts.shift()) {
        const bytes = Buffer.from(`${text}\n`, 'utf8');
        for (let done = 0; done < bytes.length;) done += writeSync(this.fd, bytes, done, bytes.length - done, this.written + done);
        this.runs.push({ start: this.written, end: this.written + bytes.length });
        this.written += bytes.length;
        this.textBytes -= text.length;
      }
    } catch {
      // A full or read-only temporary folder: the report is still made, in memory.
      this.failed = true;
    }
  }

  /** A k-way merge of the runs, the file's, then those in memory, then the items held; on ties, the earlier run first. */
  private *merge(): Generator<T> {
    const sources: Iterator<T>[] = [
      ...this.runs.map(({ start, end }) => readRun<T>(this.fd!, start, end)),
      ...this.texts.map((text) => linesOf<T>(text)),
      this.held[Symbol.iterator](),
    ];
    const heap = new MinHeap<{ item: T; source: number }>((a, b) => (this.compare(a.item, b.item) || a.source - b.source) < 0);
    const next = (source: number) => {
      const step = sources[source]!.next();
      return step.done ? undefined : { item: step.value, source };
    };
    for (const source of sources.keys()) {
      const head = next(source);
      if (head) heap.push(head);
    }
    // An audit's runs are mostly ranges of folders one after another: a run goes on while it is still
    // first, one comparison an item, and the heap is used when another run's turn comes.
    for (let top = heap.pop(); top;) {
      yield top.item;
      const head = next(top.source);
      const second = heap.peek();
      if (head && (!second || heap.before(head, second))) top = head;
      else {
        if (head) heap.push(head);
        top = heap.pop();
      }
    }
  }
}

/** Sorts items (stably, in place) and makes them a run for `pushRun`. */
export function sortedLines<T>(items: T[], compare: (a: T, b: T) => number): string {
  return items.sort(compare).map((item) => JSON.stringify(item)).join('\n');
}

/** The items of a run's JSON lines. */
function* linesOf<T>(text: string): Generator<T> {
  for (let from = 0; from < text.length;) {
    let end = text.indexOf('\n', from);
    if (end < 0) end = text.length;
    yield JSON.parse(text.slice(from, end)) as T;
    from = end + 1;
  }
}

function openUnlinked(): number {
  const dir = mkdtempSync(join(tmpdir(), 'mdmgen-spool-'));
  try {
    return openSync(join(dir, 'run'), 'wx+', 0o600);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The items of a run, read a chunk at a time. A line ends at the byte 0x0A, which JSON text escapes and UTF-8 uses for nothing else. */
function* readRun<T>(fd: number, start: number, end: number): Generator<T> {
  const buffer = Buffer.alloc(CHUNK);
  let carried = Buffer.alloc(0);
  for (let at = start; at < end;) {
    const read = readSync(fd, buffer, 0, Math.min(CHUNK, end - at), at);
    if (read === 0) throw new Error('the audit\'s temporary file was cut short');
    at += read;
    const bytes = carried.length ? Buffer.concat([carried, buffer.subarray(0, read)]) : buffer.subarray(0, read);
    const last = bytes.lastIndexOf(0x0a);
    carried = Buffer.from(bytes.subarray(last + 1));
    if (last < 0) continue;
    const text = bytes.toString('utf8', 0, last);
    yield* linesOf<T>(text);
  }
}

/** A binary heap: the merge of runs that interleave takes log(runs) comparisons an item. */
class MinHeap<T> {
  private readonly items: T[] = [];
  readonly before: (a: T, b: T) => boolean;

  constructor(before: (a: T, b: T) => boolean) {
    this.before = before;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const { items, before } = this;
    let i = items.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const { items, before } = this;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    items[0] = last;
    for (let i = 0; ;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < items.length && before(items[left]!, items[least]!)) least = left;
      if (right < items.length && before(items[right]!, items[least]!)) least = right;
      if (least === i) break;
      [items[i], items[least]] = [items[least]!, items[i]!];
      i = least;
    }
    return top;
  }
}
