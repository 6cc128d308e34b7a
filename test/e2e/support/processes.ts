import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const running = new Set<ChildProcess>();

// Should jest die without afterAll (crash, hard timeout), take the children along.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A `node --import @swc-node/register/esm-register <entry>` child with its output captured. */
export interface NodeProcess {
  name: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout; rejects if the process exits first or after limitMs. */
  waitFor(pattern: RegExp, limitMs?: number): Promise<RegExpMatchArray>;
  /** pino JSON lines the process wrote on stdout. */
  logs(): Record<string, unknown>[];
  /** SIGTERM, then SIGKILL after 5 s; resolves with the exit code (null when killed). */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

export function startNode(
  name: string,
  entry: string,
  args: string[],
  env: Record<string, string>,
): NodeProcess {
  const child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', entry, ...args], {
    cwd: root,
    // A clean environment: nothing of the developer's OMISE_* or REDIS_* settings leaks in.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const describe = () => `${name} stdout:\n${out.slice(-4000)}\n${name} stderr:\n${err.slice(-4000)}`;
  return {
    name,
    child,
    exited,
    stdout: () => out,
    stderr: () => err,
    logs: () =>
      out
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => {
          try {
            return JSON.parse(line) as Record<string, unknown>;
          } catch {
            return {};
          }
        }),
    waitFor(pattern, limitMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${name}: ${pattern} not printed within ${limitMs} ms\n${describe()}`));
        }, limitMs);
        const check = () => {
          const match = out.match(pattern);
          if (match) {
            cleanup();
            resolve(match);
          }
        };
        const onExit = (code: number | null) => {
          cleanup();
          reject(new Error(`${name} exited (${code}) before printing ${pattern}\n${describe()}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          child.stdout!.off('data', check);
          child.off('exit', onExit);
        };
        child.stdout!.on('data', check);
        child.once('exit', onExit);
        check();
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
