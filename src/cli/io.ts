/** Everything the CLI touches outside the process, injectable for tests. */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Whether stdout / stderr are terminals (colour, progress). */
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** The clock, for certificate validity only; nothing written depends on it. MDMGEN_NOW overrides it. */
  now: () => Date;
}

export const EXIT = { ok: 0, findings: 1, usage: 2 } as const;

export function processIo(): Io {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    cwd: process.cwd(),
    env: process.env,
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    now: () => (process.env.MDMGEN_NOW ? new Date(process.env.MDMGEN_NOW) : new Date()),
  };
}
