import { randomBytes } from 'node:crypto';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import {
  closeRedisConnection,
  connect,
  deleteKeysWithPrefix,
  SHARED_REDIS_URL,
  uniquePrefix,
} from '../../realtime/helpers.js';
import { freePort } from '../../realtime/private-redis-server.js';
import { startNode, type NodeProcess } from './processes.js';

/**
 * `redis-two-instances`: two gateway processes sharing the local Redis; the simulator's webhooks go to
 * A, subscribers sit on B. `memory-one-instance`: one gateway process with in-memory state; A and B
 * are the same process.
 */
export type Mode = 'redis-two-instances' | 'memory-one-instance';

export interface GatewayProcess {
  /** e.g. http://127.0.0.1:41234/graphql */
  url: string;
  origin: string;
  process: NodeProcess;
  gql<TData, TVars>(document: TypedDocumentNode<TData, TVars>, variables: TVars): Promise<TData>;
}

export interface SimulatorProcess {
  url: string;
  publicKey: string;
  secretKey: string;
  process: NodeProcess;
  /** The simulator's API or admin API with the secret key; JSON in and out; throws unless 2xx. */
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

export interface Topology {
  mode: Mode;
  sim: SimulatorProcess;
  a: GatewayProcess;
  b: GatewayProcess;
  webhookSecret: string;
  /** Stops every process (SIGTERM) and resolves with their exit codes; deletes the Redis keys. */
  close(): Promise<Record<string, number | null>>;
}

export interface TopologyOptions {
  reconcileIntervalSeconds: number;
}

const GATEWAY_URL = /GraphQL gateway:\s+(\S+)\n/;

export async function startTopology(mode: Mode, options: TopologyOptions): Promise<Topology> {
  const webhookSecret = randomBytes(32).toString('base64');
  const publicKey = `pkey_test_e2e${randomBytes(6).toString('hex')}`;
  const secretKey = `skey_test_e2e${randomBytes(6).toString('hex')}`;
  const keyPrefix = uniquePrefix();
  const started: NodeProcess[] = [];
  const stopAll = async () => {
    const codes: Record<string, number | null> = {};
    await Promise.all(started.map(async (p) => (codes[p.name] = await p.stop())));
    if (mode === 'redis-two-instances') {
      const redis = await connect(SHARED_REDIS_URL, 'e2e-cleanup');
      try {
        await deleteKeysWithPrefix(redis, keyPrefix);
      } finally {
        await closeRedisConnection(redis);
      }
    }
    return codes;
  };

  try {
    // A's port is chosen up front so that the simulator can be started with its webhook URL.
    const portA = await freePort();
    const simProcess = startNode(
      'simulator',
      'src/simulator/cli.ts',
      [
        '--port',
        '0',
        '--webhook-url',
        `http://127.0.0.1:${portA}/webhooks/omise`,
        '--webhook-secret',
        webhookSecret,
        '--public-key',
        publicKey,
        '--secret-key',
        secretKey,
      ],
      { LOG_LEVEL: 'warn' },
    );
    started.push(simProcess);
    const [, simUrl] = await simProcess.waitFor(/listening on (\S+)\n/);
    const sim: SimulatorProcess = {
      url: simUrl!,
      publicKey,
      secretKey,
      process: simProcess,
      async call<T>(method: string, path: string, body?: unknown): Promise<T> {
        const response = await fetch(`${simUrl}${path}`, {
          method,
          headers: {
            authorization: `Basic ${Buffer.from(`${secretKey}:`).toString('base64')}`,
            ...(body !== undefined && { 'content-type': 'application/json' }),
          },
          ...(body !== undefined && { body: JSON.stringify(body) }),
        });
        const json = (await response.json()) as T;
        if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
        return json;
      },
    };

    const env = {
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      OMISE_SECRET_KEY: secretKey,
      OMISE_PUBLIC_KEY: publicKey,
      OMISE_API_URL: sim.url,
      OMISE_WEBHOOK_SECRET: webhookSecret,
      RECONCILE_INTERVAL_SECONDS: String(options.reconcileIntervalSeconds),
      ...(mode === 'redis-two-instances' && { REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: keyPrefix }),
    };
    const aProcess = startNode('gateway-A', 'src/main.ts', [], { ...env, PORT: String(portA) });
    started.push(aProcess);
    const bProcess =
      mode === 'redis-two-instances'
        ? startNode('gateway-B', 'src/main.ts', [], { ...env, PORT: '0' })
        : aProcess;
    if (bProcess !== aProcess) started.push(bProcess);
    const [a, b] = await Promise.all([
      gatewayOf(aProcess),
      bProcess === aProcess ? undefined : gatewayOf(bProcess),
    ]);
    return { mode, sim, a, b: b ?? a, webhookSecret, close: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function gatewayOf(process: NodeProcess): Promise<GatewayProcess> {
  const [, url] = await process.waitFor(GATEWAY_URL);
  return {
    url: url!,
    origin: new URL(url!).origin,
    process,
    async gql<TData, TVars>(document: TypedDocumentNode<TData, TVars>, variables: TVars): Promise<TData> {
      const response = await fetch(url!, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: print(document), variables }),
      });
      const body = (await response.json()) as { data?: TData; errors?: unknown[] };
      if (!response.ok || body.errors?.length || !body.data) {
        throw new Error(`${process.name}: ${response.status} ${JSON.stringify(body)}`);
      }
      return body.data;
    },
  };
}
