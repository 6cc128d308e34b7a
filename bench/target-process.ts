/** Starts bench/target.ts as a child process and talks to it over IPC. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type {
  MemorySample,
  SimulatorCommand,
  SimulatorInfo,
  SimulatorMessage,
  TargetCommand,
  TargetInfo,
  TargetMessage,
  TargetReply,
} from './protocol.js';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type Command = WithoutId<TargetCommand>;

export interface TargetProcess {
  info: TargetInfo;
  pid: number;
  omiseCalls(): Promise<number>;
  /** CPU microseconds the target process has used so far. */
  cpu(): Promise<number>;
  memory(): Promise<MemorySample>;
  cleanupRedis(): Promise<number>;
  /** Points the simulator's webhooks at the memory gateway (default) or the first Redis one, or nowhere. */
  webhooks(on: boolean, to?: 'memory' | 'redis'): Promise<void>;
  /** Starts one more memory gateway whose Omise is the simulator in another process. */
  startExternalGateway(simulator: SimulatorInfo): Promise<{ url: string; webhookUrl: string }>;
  close(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;
const COMMAND_TIMEOUT_MS = 30_000;

export interface TargetOptions {
  redis: boolean;
  /** Writes a V8 CPU profile of the target process into this directory (`--profile`). */
  cpuProfileDir?: string;
}

export async function startTarget(options: TargetOptions): Promise<TargetProcess> {
  const profile = options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
  const child: ChildProcess = fork(
    fileURLToPath(new URL('./target.ts', import.meta.url)),
    options.redis ? ['--redis'] : [],
    // Same loader as this process (swc), plus a callable GC for the memory figures.
    {
      execArgv: [...process.execArgv, '--expose-gc', ...profile],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;

  const info = await new Promise<TargetInfo>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error('the target process did not start within 60 s'));
    }, START_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the target process exited (code ${code}) before it was ready`));
    });
    child.on('message', (message: TargetMessage | TargetReply) => {
      if ('type' in message) {
        clearTimeout(timer);
        if (message.type === 'ready') resolve(message.info);
        else reject(new Error(`the target process failed to start:\n${message.error}`));
        return;
      }
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.ok) waiter?.resolve(message.value);
      else waiter?.reject(new Error(message.error));
    });
  });
  child.on('exit', () => {
    for (const waiter of pending.values()) waiter.reject(new Error('the target process exited'));
    pending.clear();
  });

  const call = <T>(command: Command): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`target: no answer to ${command.cmd} within ${COMMAND_TIMEOUT_MS} ms`));
      }, COMMAND_TIMEOUT_MS);
      pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      child.send({ ...command, id } as TargetCommand);
    });

  return {
    info,
    pid: child.pid ?? -1,
    omiseCalls: () => call<number>({ cmd: 'omiseCalls' }),
    cpu: () => call<number>({ cmd: 'cpu' }),
    memory: () => call<MemorySample>({ cmd: 'memory' }),
    cleanupRedis: () => call<number>({ cmd: 'cleanupRedis' }),
    webhooks: (on, to) => call<void>({ cmd: 'webhooks', on, ...(to && { to }) }),
    startExternalGateway: (simulator) => call({ cmd: 'startExternalGateway', simulator }),
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await call({ cmd: 'close' }).catch(() => child.kill());
      const timer = setTimeout(() => child.kill(), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface AnchorProcess {
  url: string;
  /** CPU microseconds the anchor process has used so far. */
  cpu(): Promise<number>;
  close(): Promise<void>;
}

/** Starts bench/anchor.ts (`apollo` or `mercurius`) in a process of its own. */
export async function startAnchor(kind: 'apollo' | 'mercurius'): Promise<AnchorProcess> {
  const child = fork(fileURLToPath(new URL('./anchor.ts', import.meta.url)), [kind], {
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<number, (value: number) => void>();
  let nextId = 1;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`the ${kind} anchor did not start within 60 s`));
    }, START_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the ${kind} anchor exited (code ${code}) before it was ready`));
    });
    child.on(
      'message',
      (message: { type?: string; url?: string; error?: string; id?: number; value?: number }) => {
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve(message.url ?? '');
        } else if (message.type === 'failed') {
          clearTimeout(timer);
          reject(new Error(`the ${kind} anchor failed: ${message.error}`));
        } else if (message.id !== undefined) {
          waiting.get(message.id)?.(message.value ?? NaN);
          waiting.delete(message.id);
        }
      },
    );
  });
  return {
    url,
    cpu: () =>
      new Promise<number>((resolve) => {
        const id = nextId++;
        waiting.set(id, resolve);
        child.send({ id, cmd: 'cpu' });
      }),
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill();
      await exited;
    },
  };
}

export interface SimulatorProcess {
  info: SimulatorInfo;
  /** CPU microseconds the simulator's process has used so far. */
  cpu(): Promise<number>;
  /** Where the simulator POSTs its webhooks. */
  webhooks(urls: string[]): Promise<void>;
  close(): Promise<void>;
}

/** Starts bench/simulator.ts: the Omise simulator in a process of its own. */
export async function startSimulatorProcess(
  options: { cpuProfileDir?: string } = {},
): Promise<SimulatorProcess> {
  const profile = options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
  const child = fork(fileURLToPath(new URL('./simulator.ts', import.meta.url)), [], {
    execArgv: [...process.execArgv, ...profile],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<number, (value: number | undefined) => void>();
  let nextId = 1;
  const info = await new Promise<SimulatorInfo>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error('the simulator process did not start within 60 s'));
    }, START_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the simulator process exited (code ${code}) before it was ready`));
    });
    child.on('message', (message: SimulatorMessage) => {
      if ('type' in message) {
        clearTimeout(timer);
        if (message.type === 'ready') resolve(message.info);
        else reject(new Error(`the simulator process failed to start: ${message.error}`));
        return;
      }
      waiting.get(message.id)?.(message.value);
      waiting.delete(message.id);
    });
  });
  const call = (command: WithoutId<SimulatorCommand>) =>
    new Promise<number | undefined>((resolve, reject) => {
      if (child.exitCode !== null) {
        reject(new Error('the simulator process exited'));
        return;
      }
      const id = nextId++;
      waiting.set(id, resolve);
      child.send({ ...command, id });
    });
  return {
    info,
    cpu: async () => (await call({ cmd: 'cpu' })) ?? NaN,
    webhooks: async (urls) => {
      await call({ cmd: 'webhooks', urls });
    },
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      // It closes its servers when the IPC channel goes (the --cpu-prof profile is written at exit).
      child.disconnect();
      const timer = setTimeout(() => child.kill(), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
