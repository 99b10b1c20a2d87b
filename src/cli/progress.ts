import type { Io } from './io.js';

export interface Progress {
  update(done: number): void;
  finish(): void;
}

const WIDTH = 24;
const EVERY_MS = 100;

/**
 * A progress bar with an ETA on stderr, drawn only when stderr is a terminal (a log or a CI run stays
 * clean), at most ten times a second, and only for runs long enough to need one.
 */
export function progress(io: Io, what: string, total: number, clock: () => number = () => performance.now()): Progress {
  if (!io.stderrIsTTY || total < 1000) return { update: () => undefined, finish: () => undefined };
  const start = clock();
  let drawn = -Infinity;
  let shown = false;
  const draw = (done: number) => {
    const elapsed = (clock() - start) / 1000;
    const filled = Math.round((done / total) * WIDTH);
    const eta = done > 0 && done < total ? `, ${Math.ceil((elapsed * (total - done)) / done)} s left` : '';
    io.stderr(`\r[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${what} ${elapsed.toFixed(1)} s${eta}\x1b[K`);
    shown = true;
  };
  return {
    update(done) {
      const now = clock();
      if (now - drawn < EVERY_MS) return;
      drawn = now;
      draw(done);
    },
    finish() {
      if (shown) io.stderr('\r\x1b[K');
    },
  };
}
