import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, PrivateRedisServer } from '../../realtime/private-redis-server.js';
import { startNode, type NodeProcess } from '../../e2e/support/processes.js';
import { createTestDatabase } from '../../persistence/test-database.js';

/**
 * Real processes for the reliability tests: a private redis-server (restartable, never the shared
 * one), a throw-away PostgreSQL database on the local server (made and dropped per run), the simulator
 * CLI, and gateway instances (`src/main.ts`) on fixed ports so that one can be killed and started again
 * where the clients expect it. The simulator sends every webhook to every instance.
 */
export interface ClusterOptions {
  instances: number;
  reconcileIntervalSeconds: number;
  shutdownGraceSeconds?: number;
  /** Make a database on 127.0.0.1:5432 and give its URL to the gateways as DATABASE_URL. Default true. */
  database?: boolean;
  /** Gateway log level (their stdout is kept in memory); default 'warn'. */
  logLevel?: string;
  /** Omise client of the gateways. */
  omiseTimeoutMs?: number;
  omiseMaxAttempts?: number;
  /** More environment for every gateway. */
  env?: Record<string, string>;
  /** When set, every process's stdout and stderr are written there on close (one file per process start). */
  logDir?: string;
}

export interface SimulatorHandle {
  url: string;
  secretKey: string;
  process: NodeProcess;
  /** The simulator's API or admin API with the secret key (JSON); answers status and body, never throws on 4xx/5xx. */
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** As request, but throws unless 2xx. */
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

export class GatewayInstance {
  process: NodeProcess | undefined;
  /** Every process this instance ran, the current one last. */
  readonly history: NodeProcess[] = [];
  starts = 0;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get url(): string {
    return `${this.origin}/graphql`;
  }

  get running(): boolean {
    const child = this.process?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  async start(): Promise<void> {
    this.starts++;
    this.process = startNode(`${this.name}#${this.starts}`, 'src/main.ts', [], {
      ...this.env,
      PORT: String(this.port),
    });
    this.history.push(this.process);
    await this.process.waitFor(/GraphQL gateway:\s+(\S+)\n/, 60_000);
  }

  /** SIGKILL: nothing drains, in-flight requests are lost mid-way. */
  async kill(): Promise<void> {
    const p = this.process;
    if (!p || !this.running) return;
    p.child.kill('SIGKILL');
    await p.exited;
  }

  /** SIGTERM; resolves with the exit code and how long the process took to exit. */
  async terminate(): Promise<{ code: number | null; ms: number }> {
    const p = this.process;
    if (!p || !this.running) return { code: p?.child.exitCode ?? null, ms: 0 };
    const started = Date.now();
    p.child.kill('SIGTERM');
    const code = await p.exited;
    return { code, ms: Date.now() - started };
  }
}

export interface Cluster {
  redis: PrivateRedisServer;
  databaseUrl: string | undefined;
  sim: SimulatorHandle;
  gateways: GatewayInstance[];
  webhookSecret: string;
  /** Kills the private redis-server and starts it again on the same port (empty, as after a crash). */
  restartRedis(downMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const webhookSecret = randomBytes(32).toString('base64');
  const secretKey = `skey_test_chaos${randomBytes(6).toString('hex')}`;
  const publicKey = `pkey_test_chaos${randomBytes(6).toString('hex')}`;
  const cleanups: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const redis = new PrivateRedisServer(await freePort());
    await redis.start();
    cleanups.push(() => redis.kill());

    let databaseUrl: string | undefined;
    if (options.database ?? true) {
      const db = await createTestDatabase();
      cleanups.push(() => db.drop());
      databaseUrl = db.url;
    }

    const ports = await Promise.all(Array.from({ length: options.instances }, () => freePort()));
    const simProcess = startNode(
      'simulator',
      'src/simulator/cli.ts',
      [
        '--port',
        '0',
        ...ports.flatMap((port) => ['--webhook-url', `http://127.0.0.1:${port}/webhooks/omise`]),
        '--webhook-secret',
        webhookSecret,
        '--public-key',
        publicKey,
        '--secret-key',
        secretKey,
      ],
      { LOG_LEVEL: 'error' },
    );
    cleanups.push(() => simProcess.stop());
    const [, simUrl] = await simProcess.waitFor(/listening on (\S+)\n/, 60_000);
    const authorization = `Basic ${Buffer.from(`${secretKey}:`).toString('base64')}`;
    const request = async <T>(method: string, path: string, body?: unknown) => {
      const response = await fetch(`${simUrl}${path}`, {
        method,
        headers: { authorization, ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // a fault's empty or cut answer: keep the text
      }
      return { status: response.status, body: parsed as T };
    };
    const sim: SimulatorHandle = {
      url: simUrl!,
      secretKey,
      process: simProcess,
      request,
      async call<T>(method: string, path: string, body?: unknown) {
        const answer = await request<T>(method, path, body);
        if (answer.status < 200 || answer.status > 299) {
          throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
        }
        return answer.body;
      },
    };

    const env: Record<string, string> = {
      HOST: '127.0.0.1',
      LOG_LEVEL: options.logLevel ?? 'warn',
      OMISE_SECRET_KEY: secretKey,
      OMISE_PUBLIC_KEY: publicKey,
      OMISE_API_URL: sim.url,
      OMISE_WEBHOOK_SECRET: webhookSecret,
      OMISE_TIMEOUT_MS: String(options.omiseTimeoutMs ?? 5_000),
      OMISE_MAX_ATTEMPTS: String(options.omiseMaxAttempts ?? 3),
      REDIS_URL: redis.url,
      RECONCILE_INTERVAL_SECONDS: String(options.reconcileIntervalSeconds),
      // Every client of the run shares 127.0.0.1: per-IP budgets would throttle the test, not protect it.
      RATE_LIMIT_PER_MINUTE: '0',
      ...(options.shutdownGraceSeconds !== undefined && {
        SHUTDOWN_GRACE_SECONDS: String(options.shutdownGraceSeconds),
      }),
      ...(databaseUrl !== undefined && { DATABASE_URL: databaseUrl }),
      ...options.env,
    };
    const gateways = ports.map(
      (port, i) => new GatewayInstance(`gateway-${String.fromCharCode(65 + i)}`, port, env),
    );
    cleanups.push(() => Promise.all(gateways.map((g) => g.process?.stop())));
    if (options.logDir !== undefined) {
      const dir = options.logDir;
      cleanups.push(async () => {
        mkdirSync(dir, { recursive: true });
        for (const p of [simProcess, ...gateways.flatMap((g) => g.history)]) {
          writeFileSync(join(dir, `${p.name}.out.log`), p.stdout());
          writeFileSync(join(dir, `${p.name}.err.log`), p.stderr());
        }
      });
    }
    await Promise.all(gateways.map((g) => g.start()));

    return {
      redis,
      databaseUrl,
      sim,
      gateways,
      webhookSecret,
      async restartRedis(downMs) {
        await redis.kill();
        await new Promise((resolve) => setTimeout(resolve, downMs));
        await redis.start();
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
