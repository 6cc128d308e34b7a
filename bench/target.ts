/**
 * The servers under test, in their own process (forked by bench/run.ts) so that the load generator does
 * not share their event loop: a bare node:http baseline, the Omise simulator, a gateway with memory stores
 * and (when asked) a gateway with Redis stores. Answers the load generator's questions over IPC.
 */
import 'reflect-metadata';
import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../src/config/config.js';
import { createOmiseClient, OmiseClient } from '../src/omise/client.js';
import { createPooledFetch } from '../src/omise/pooled-fetch.js';
import { createRealtime, type Realtime } from '../src/realtime/index.js';
import { createLogger } from '../src/server/logger.js';
import { startGateway, type RunningGateway } from '../src/server/gateway.js';
import { startSimulator, type RunningSimulator } from '../src/simulator/index.js';
import { CHARGE_QUERY, createCharge, postGraphQL } from './operations.js';
import type {
  MemorySample,
  SimulatorInfo,
  TargetCommand,
  TargetInfo,
  TargetMessage,
  TargetReply,
} from './protocol.js';

const redisUrl = process.argv.includes('--redis')
  ? (process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  : undefined;
const logger = createLogger({ level: 'silent' });
const closers: (() => Promise<void>)[] = [];
let omiseCalls = 0;
let redisPrefix: string | undefined;
let webhookTarget: { sim: RunningSimulator; memory: string; redis?: string } | undefined;
/** The API key of the gateway with authentication on (scenario charge-paid). */
const BENCH_API_KEY = 'bench-key-0123456789abcdef';

/** The gateway's own Omise client, whose fetch (the client's default, pooled) only counts the requests it sends. */
function countingOmiseClient(config: Config): OmiseClient {
  const pooledFetch = createPooledFetch();
  return createOmiseClient(config.omise, {
    fetch: (input, init) => {
      omiseCalls += 1;
      return pooledFetch(input, init);
    },
  });
}

function gatewayConfig(sim: SimulatorInfo): Config {
  return loadConfig(gatewayEnv(sim));
}

function gatewayEnv(sim: SimulatorInfo): Record<string, string> {
  return {
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
    OMISE_SECRET_KEY: sim.secretKey,
    OMISE_PUBLIC_KEY: sim.publicKey,
    OMISE_API_URL: sim.url,
    OMISE_WEBHOOK_SECRET: sim.webhookSecret,
    // Load comes from one client IP: a per-IP rate limit would measure the limiter's refusals.
    RATE_LIMIT_PER_MINUTE: '0',
  };
}

/**
 * A bare node:http server whose every answer is one Omise `GET /charges/:id` made by `fetchCharge`:
 * the cost of an Omise client without GraphQL, the payments layer or the gateway's HTTP stack.
 */
async function startRelay(fetchCharge: () => Promise<unknown>): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      fetchCharge().then(
        (charge) => {
          const bytes = Buffer.from(JSON.stringify(charge));
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length });
          res.end(bytes);
        },
        (error: unknown) => {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(String(error));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return server;
}

/** GET /charges/:id with node:http and a keep-alive agent: what a lean HTTP client costs. */
function leanRetrieveCharge(sim: RunningSimulator, chargeId: string): () => Promise<unknown> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  closers.push(async () => agent.destroy());
  const url = new URL(`${sim.url}/charges/${chargeId}`);
  const authorization = `Basic ${Buffer.from(`${sim.secretKey}:`).toString('base64')}`;
  return () =>
    new Promise((resolve, reject) => {
      const request = httpRequest(
        { host: url.hostname, port: url.port, path: url.pathname, agent, headers: { authorization } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
            } catch (error) {
              reject(error instanceof Error ? error : new Error(String(error)));
            }
          });
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end();
    });
}

const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

/** A bare node:http server that answers every request with the same bytes (the upper bound). */
async function startBaseline(body: string): Promise<Server> {
  const bytes = Buffer.from(body);
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': bytes.length,
      });
      res.end(bytes);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function startRedisGateway(
  sim: RunningSimulator,
): Promise<{ gateway?: RunningGateway; second?: RunningGateway; note?: string }> {
  if (!redisUrl) return { note: 'not selected' };
  redisPrefix = `tmgw-bench-${process.pid}-${Date.now()}:`;
  let realtime: Realtime;
  try {
    realtime = await createRealtime({ redisUrl, keyPrefix: redisPrefix, startupTimeoutMs: 3000 });
  } catch (error) {
    return { note: `Redis at ${redisUrl} not reachable: ${(error as Error).message}` };
  }
  closers.push(() => realtime.close());
  const config = { ...gatewayConfig(sim), redisUrl, redisKeyPrefix: redisPrefix };
  const gateway = await startGateway(config, { logger, omise: countingOmiseClient(config), realtime });
  closers.push(() => gateway.close());
  // A second instance on the same Redis (its own connections): a change must show on both.
  const second = await startGateway(config, { logger, omise: countingOmiseClient(config) });
  closers.push(() => second.close());
  return { gateway, second };
}

async function cleanupRedis(): Promise<number> {
  if (!redisUrl || !redisPrefix) return 0;
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}

function memory(): MemorySample {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed };
}

/**
 * A gateway with memory stores whose Omise is a simulator in another process, set up as src/main.ts
 * sets up a gateway for an external Omise (OMISE_API_URL, the keys, OMISE_WEBHOOK_SECRET).
 */
async function startExternalGateway(sim: SimulatorInfo): Promise<{ url: string; webhookUrl: string }> {
  const config = gatewayConfig(sim);
  const gateway = await startGateway(config, { logger, omise: countingOmiseClient(config) });
  closers.push(() => gateway.close());
  return { url: gateway.url, webhookUrl: `${gateway.origin}/webhooks/omise` };
}

async function closeAll(): Promise<void> {
  for (const close of closers.splice(0).reverse()) {
    await close().catch((error: unknown) => console.error('bench target: close failed:', error));
  }
}

async function start(): Promise<TargetInfo> {
  const sim = await startSimulator({ logger });
  closers.push(() => sim.close());

  const config = gatewayConfig(sim);
  const omise = countingOmiseClient(config);
  const gateway = await startGateway(config, { logger, omise });
  closers.push(() => gateway.close());
  // The same with authentication on: every request carries an API key (scenario charge-paid).
  const authConfig = loadConfig({
    ...gatewayEnv(sim),
    GATEWAY_API_KEYS: JSON.stringify([
      { name: 'bench', key: BENCH_API_KEY, scopes: ['charges:read', 'charges:create'] },
    ]),
  });
  const authGateway = await startGateway(authConfig, { logger, omise: countingOmiseClient(authConfig) });
  closers.push(() => authGateway.close());
  // As src/main.ts does, the simulator's webhooks can go to this gateway (the fan-out scenario needs them).
  webhookTarget = { sim, memory: `${gateway.origin}/webhooks/omise` };

  const chargeId = await createCharge(gateway.url);
  const pollingChargeId = await createCharge(gateway.url, 10_100);
  const paidChargeId = await createCharge(gateway.url, 10_200);
  await omise.markChargeAsPaid(paidChargeId);
  const otherChargeIds: string[] = [];
  for (let i = 0; i < 5; i++) otherChargeIds.push(await createCharge(gateway.url, 10_000 + i));

  // The baseline answers exactly what the gateway answers for the read scenarios' query.
  const { text: chargeResponseBody } = await postGraphQL(gateway.url, CHARGE_QUERY, { id: chargeId });
  const baseline = await startBaseline(chargeResponseBody);
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        baseline.close(() => resolve());
        baseline.closeAllConnections();
      }),
  );

  const omiseClientRelay = await startRelay(() => omise.retrieveCharge(chargeId));
  const leanClientRelay = await startRelay(leanRetrieveCharge(sim, chargeId));
  // The same OmiseClient over Node's own fetch: what the pooled undici fetch saves, in the same run.
  const nodeFetchOmise = createOmiseClient(config.omise, { fetch: (input, init) => fetch(input, init) });
  const nodeFetchRelay = await startRelay(() => nodeFetchOmise.retrieveCharge(chargeId));

  const redis = await startRedisGateway(sim);
  if (redis.gateway) webhookTarget.redis = `${redis.gateway.origin}/webhooks/omise`;
  return {
    gatewayAuthUrl: authGateway.url,
    apiKey: BENCH_API_KEY,
    paidChargeId,
    pollingChargeId,
    ...(redis.second && { gatewayRedisSecondUrl: redis.second.url }),
    baselineUrl: `${urlOf(baseline)}graphql`,
    omiseClientRelayUrl: urlOf(omiseClientRelay),
    leanClientRelayUrl: urlOf(leanClientRelay),
    nodeFetchRelayUrl: urlOf(nodeFetchRelay),
    chargeResponseBody,
    gatewayUrl: gateway.url,
    ...(redis.gateway && { gatewayRedisUrl: redis.gateway.url }),
    ...(redis.note !== undefined && { redisNote: redis.note }),
    simulatorUrl: sim.url,
    simulatorSecretKey: sim.secretKey,
    chargeId,
    otherChargeIds,
  };
}

async function handle(command: TargetCommand): Promise<unknown> {
  switch (command.cmd) {
    case 'omiseCalls':
      return omiseCalls;
    case 'cpu': {
      const { user, system } = process.cpuUsage();
      return user + system;
    }
    case 'memory':
      return memory();
    case 'cleanupRedis':
      return cleanupRedis();
    case 'webhooks': {
      const url = command.on ? webhookTarget?.[command.to ?? 'memory'] : undefined;
      webhookTarget?.sim.setWebhookUrls(url ? [url] : []);
      return command.on;
    }
    case 'startExternalGateway':
      return startExternalGateway(command.simulator);
    case 'close':
      await closeAll();
      setImmediate(() => process.exit(0));
      return true;
  }
}

function send(message: TargetMessage | TargetReply): void {
  process.send?.(message);
}

process.on('message', (message: TargetCommand) => {
  handle(message).then(
    (value) => send({ id: message.id, ok: true, value }),
    (error: unknown) => send({ id: message.id, ok: false, error: String(error) }),
  );
});
// The load generator died: do not outlive it.
process.on('disconnect', () => {
  void closeAll().finally(() => process.exit(0));
});

start().then(
  (info) => send({ type: 'ready', info }),
  async (error: unknown) => {
    send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    await closeAll();
    process.exit(1);
  },
);
