/**
 * `npm run bench`: loopback load against the gateway, each scenario compared with a baseline measured in
 * the same run. Options: --duration <s> (per read scenario, default 5), --connections <n> (default 50),
 * --only <name>[,<name>...] (a scenario name or prefix; its baseline runs too), --writes <n> (requests per
 * write scenario, default 1500), --subscribers <n> (default 200), --trials <n> (fan-out, default 3),
 * --out <dir> (default bench/results/), --profile <dir> (V8 CPU profile of the servers' process).
 * Prints a markdown table and writes bench/results/latest.{md,json}. See docs/benchmarks.md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { runLoad, type LoadOptions } from './load.js';
import {
  CHARGE_ALIASED_5_QUERY,
  CHARGE_DISTINCT_5_QUERY,
  CHARGE_QUERY,
  CREATE_CHARGE_MUTATION,
  graphqlBody,
  TYPENAME_QUERY,
} from './operations.js';
import type { TargetInfo } from './protocol.js';
import {
  loadAverage,
  machineMeta,
  median,
  renderMarkdown,
  type FanOutReport,
  type RunMeta,
  type ScenarioRow,
} from './report.js';
import { fanOutTrial, type FanOutTrial } from './subscriptions.js';
import { startTarget, type TargetProcess } from './target-process.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    only: { type: 'string', multiple: true },
    writes: { type: 'string', default: '1500' },
    subscribers: { type: 'string', default: '200' },
    trials: { type: 'string', default: '3' },
    out: { type: 'string', default: new URL('./results/', import.meta.url).pathname },
    profile: { type: 'string' },
  },
});

function positive(name: string, raw: string | undefined): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}
const durationS = positive('duration', args.duration);
const connections = Math.round(positive('connections', args.connections));
const writes = Math.round(positive('writes', args.writes));
const subscribers = Math.round(positive('subscribers', args.subscribers));
const trials = Math.round(positive('trials', args.trials));
const warmupS = Math.min(1, durationS / 5);
/** Longest a write scenario may run, whatever its request count. */
const WRITE_CAP_S = 60;
const FAN_OUT_TIMEOUT_MS = 15_000;
const OMISE_CALL_PROBES = 20;

interface Context {
  info: TargetInfo;
  target: TargetProcess;
}

interface LoadScenario {
  number: string;
  name: string;
  title: string;
  baseline?: string;
  /** Reads run for --duration; writes for --writes requests. */
  kind: 'read' | 'write';
  countOmiseCalls?: boolean;
  load(ctx: Context): Omit<LoadOptions, 'connections' | 'duration'> | { skip: string };
}

const isGraphQLData = (mustContain: string) => (body: string) =>
  body.startsWith('{"data":') && !body.includes('"errors":') && body.includes(mustContain);

let keyCounter = 0;
const runId = `${process.pid}-${Date.now()}`;
function createBody(withKey: boolean): () => string {
  return () =>
    graphqlBody(CREATE_CHARGE_MUTATION, {
      input: { amount: 10_000, ...(withKey && { idempotencyKey: `bench-${runId}-${++keyCounter}` }) },
    });
}
const isCreated = (body: string) => body.includes('"status":"PENDING"') && body.includes('"userErrors":[]');

const SCENARIOS: LoadScenario[] = [
  {
    number: '1',
    name: 'baseline',
    title:
      'bare node:http server answering the bytes the gateway answers for `charge(id)` (no GraphQL, no Omise): the ceiling of this machine and load generator',
    kind: 'read',
    load: ({ info }) => ({
      url: info.baselineUrl,
      body: graphqlBody(CHARGE_QUERY, { id: info.chargeId }),
      isGoodBody: (body) => body === info.chargeResponseBody,
    }),
  },
  {
    number: '2',
    name: 'graphql-typename',
    title:
      '`query { __typename }` on POST /graphql of the real gateway: HTTP routing, body parsing, Apollo, context, plugins, no resolver I/O',
    baseline: 'baseline',
    kind: 'read',
    load: ({ info }) => ({
      url: info.gatewayUrl,
      body: graphqlBody(TYPENAME_QUERY),
      isGoodBody: isGraphQLData('"__typename":"Query"'),
    }),
  },
  {
    number: '3',
    name: 'omise-direct',
    title: 'GET /charges/:id straight to the Omise simulator with the secret key: the Omise call alone',
    kind: 'read',
    load: ({ info }) => ({
      url: `${info.simulatorUrl}/charges/${info.chargeId}`,
      method: 'GET',
      headers: { authorization: `Basic ${Buffer.from(`${info.simulatorSecretKey}:`).toString('base64')}` },
      // The simulator pretty-prints, as Omise does.
      isGoodBody: (body) => /"object":\s*"charge"/.test(body) && body.includes(info.chargeId),
    }),
  },
  {
    number: '3b',
    name: 'omise-client',
    title:
      "bare node:http server whose every answer is one `retrieveCharge` of the gateway's own OmiseClient (ky over fetch, retries policy, zod): the Omise client's cost without GraphQL",
    baseline: 'omise-direct',
    kind: 'read',
    countOmiseCalls: true,
    load: ({ info }) => ({
      url: info.omiseClientRelayUrl,
      method: 'GET',
      isGoodBody: (body) => body.includes(`"id":"${info.chargeId}"`),
    }),
  },
  {
    number: '3c',
    name: 'lean-client',
    title:
      'the same relay with a plain node:http keep-alive request + JSON.parse instead of the OmiseClient: what a lean HTTP client costs',
    baseline: 'omise-direct',
    kind: 'read',
    load: ({ info }) => ({
      url: info.leanClientRelayUrl,
      method: 'GET',
      isGoodBody: (body) => body.includes(`"id":"${info.chargeId}"`),
    }),
  },
  {
    number: '4',
    name: 'charge-query',
    title:
      '`charge(id)` through the gateway, end to end: gateway → Omise client → simulator over HTTP → mapping → GraphQL',
    baseline: 'omise-direct',
    kind: 'read',
    countOmiseCalls: true,
    load: ({ info }) => ({
      url: info.gatewayUrl,
      body: graphqlBody(CHARGE_QUERY, { id: info.chargeId }),
      isGoodBody: isGraphQLData(`"id":"${info.chargeId}"`),
    }),
  },
  {
    number: '5',
    name: 'charge-aliased-5',
    title:
      'the same `charge(id)` under 5 aliases in one query: the per-request DataLoader should make 1 Omise call, not 5',
    baseline: 'charge-query',
    kind: 'read',
    countOmiseCalls: true,
    load: ({ info }) => ({
      url: info.gatewayUrl,
      body: graphqlBody(CHARGE_ALIASED_5_QUERY, { id: info.chargeId }),
      isGoodBody: isGraphQLData(`"e":{"id":"${info.chargeId}"`),
    }),
  },
  {
    number: '5b',
    name: 'charge-distinct-5',
    title:
      '5 different charges in one query: 5 Omise calls whatever the loader does (what de-duplication saves when ids repeat)',
    baseline: 'charge-query',
    kind: 'read',
    countOmiseCalls: true,
    load: ({ info }) => {
      const [a, b, c, d, e] = info.otherChargeIds;
      return {
        url: info.gatewayUrl,
        body: graphqlBody(CHARGE_DISTINCT_5_QUERY, { a, b, c, d, e }),
        isGoodBody: isGraphQLData(`"e":{"id":"${e}"`),
      };
    },
  },
  {
    number: '7a',
    name: 'create-no-key',
    title:
      '`createTrueMoneyCharge` without an idempotency key (memory stores): source + charge at the simulator',
    kind: 'write',
    countOmiseCalls: true,
    load: ({ info }) => ({ url: info.gatewayUrl, nextBody: createBody(false), isGoodBody: isCreated }),
  },
  {
    number: '7b',
    name: 'create-idempotent-memory',
    title: '`createTrueMoneyCharge` with a unique idempotency key per request, in-memory key store',
    baseline: 'create-no-key',
    kind: 'write',
    countOmiseCalls: true,
    load: ({ info }) => ({ url: info.gatewayUrl, nextBody: createBody(true), isGoodBody: isCreated }),
  },
  {
    number: '7c',
    name: 'create-idempotent-redis',
    title:
      '`createTrueMoneyCharge` with a unique idempotency key per request, Redis key store (127.0.0.1:6379, private key prefix, deleted afterwards)',
    baseline: 'create-idempotent-memory',
    kind: 'write',
    countOmiseCalls: true,
    load: ({ info }) =>
      info.gatewayRedisUrl
        ? { url: info.gatewayRedisUrl, nextBody: createBody(true), isGoodBody: isCreated }
        : { skip: info.redisNote ?? 'no Redis gateway' },
  },
];
const FAN_OUT_NAME = 'subscription-fanout';

/** Names selected by --only, with the baselines they need (a ratio needs its baseline in the same run). */
function selected(): Set<string> {
  const all = [...SCENARIOS.map((s) => s.name), FAN_OUT_NAME];
  if (!args.only?.length) return new Set(all);
  const wanted = args.only.flatMap((o) => o.split(',')).map((o) => o.trim());
  const names = new Set(all.filter((name) => wanted.some((w) => name.startsWith(w))));
  if (names.size === 0) throw new Error(`--only matches no scenario; scenarios: ${all.join(', ')}`);
  let added = true;
  while (added) {
    added = false;
    for (const s of SCENARIOS) {
      if (names.has(s.name) && s.baseline && !names.has(s.baseline)) {
        names.add(s.baseline);
        added = true;
      }
    }
  }
  return names;
}

/**
 * Omise calls per request, counted exactly on a few sequential requests (under load, requests still in
 * flight when the run stops would blur the count).
 */
async function omiseCallsPerRequestOf(
  ctx: Context,
  options: Omit<LoadOptions, 'connections' | 'duration'>,
): Promise<number> {
  const before = await ctx.target.omiseCalls();
  for (let i = 0; i < OMISE_CALL_PROBES; i++) {
    const response = await fetch(options.url, {
      method: options.method ?? 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      ...((options.method ?? 'POST') === 'POST' && { body: options.nextBody?.() ?? options.body ?? '' }),
    });
    const body = await response.text();
    if (!response.ok || (options.isGoodBody && !options.isGoodBody(body))) {
      throw new Error(`unexpected answer (HTTP ${response.status}): ${body.slice(0, 300)}`);
    }
  }
  return ((await ctx.target.omiseCalls()) - before) / OMISE_CALL_PROBES;
}

async function runScenario(ctx: Context, scenario: LoadScenario): Promise<ScenarioRow> {
  const row: ScenarioRow = {
    number: scenario.number,
    name: scenario.name,
    title: scenario.title,
    ...(scenario.baseline && { baseline: scenario.baseline }),
  };
  const options = scenario.load(ctx);
  if ('skip' in options) return { ...row, skipped: options.skip };
  const base = { ...options, connections };
  process.stderr.write(`bench: ${scenario.name} ...`);
  if (scenario.kind === 'read') {
    await runLoad({ ...base, duration: warmupS });
  } else {
    await runLoad({ ...base, duration: WRITE_CAP_S, amount: Math.min(200, writes) });
  }
  const omiseCallsPerRequest = scenario.countOmiseCalls
    ? await omiseCallsPerRequestOf(ctx, options)
    : undefined;
  const result =
    scenario.kind === 'read'
      ? await runLoad({ ...base, duration: durationS })
      : await runLoad({ ...base, duration: WRITE_CAP_S, amount: writes });
  process.stderr.write(` ${Math.round(result.reqPerSec)} req/s\n`);
  return {
    ...row,
    reqPerSec: result.reqPerSec,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    requests: result.requests,
    seconds: result.seconds,
    failures: result.failures,
    ...(result.failureDetail && { failureDetail: result.failureDetail }),
    ...(omiseCallsPerRequest !== undefined && { omiseCallsPerRequest }),
  };
}

async function runFanOut(ctx: Context): Promise<FanOutReport> {
  process.stderr.write('bench: subscription-fanout ...');
  await ctx.target.webhooks(true);
  try {
    return await fanOut(ctx);
  } finally {
    await ctx.target.webhooks(false);
  }
}

async function fanOut(ctx: Context): Promise<FanOutReport> {
  const deps = {
    gatewayUrl: ctx.info.gatewayUrl,
    memory: () => ctx.target.memory(),
    timeoutMs: FAN_OUT_TIMEOUT_MS,
  };
  // One subscriber first: it also tells whether chargeStatus is wired in this build at all.
  let probe: FanOutTrial;
  try {
    probe = await fanOutTrial(deps, 1);
  } catch (error) {
    const reason = `chargeStatus over WebSocket does not work in this build yet (${(error as Error).message})`;
    process.stderr.write(` skipped: ${reason}\n`);
    return { skipped: reason };
  }
  const single: FanOutTrial[] = [probe];
  const many: FanOutTrial[] = [];
  for (let i = 0; i < trials; i++) {
    if (i > 0) single.push(await fanOutTrial(deps, 1));
    many.push(await fanOutTrial(deps, subscribers));
  }
  const ratio = median(many.map((t) => t.lastMs)) / median(single.map((t) => t.lastMs));
  process.stderr.write(
    ` ${subscribers} subscribers: last SUCCESSFUL after ${median(many.map((t) => t.lastMs)).toFixed(1)} ms\n`,
  );
  return { single: { subscribers: 1, trials: single }, many: { subscribers, trials: many }, ratio };
}

async function main(): Promise<void> {
  const started = performance.now();
  const date = new Date().toISOString();
  const machine = machineMeta();
  const names = selected();
  const target = await startTarget({
    redis: names.has('create-idempotent-redis'),
    ...(args.profile && { cpuProfileDir: args.profile }),
  });
  const ctx: Context = { info: target.info, target };
  const rows: ScenarioRow[] = [];
  let fanOut: FanOutReport | undefined;
  let redisKeysDeleted = 0;
  try {
    for (const scenario of SCENARIOS) {
      if (scenario.name.startsWith('create-') && names.has(FAN_OUT_NAME) && !fanOut) {
        fanOut = await runFanOut(ctx);
      }
      if (names.has(scenario.name)) rows.push(await runScenario(ctx, scenario));
    }
    if (names.has(FAN_OUT_NAME) && !fanOut) fanOut = await runFanOut(ctx);
  } finally {
    redisKeysDeleted = await target.cleanupRedis().catch(() => -1);
    await target.close();
  }

  for (const row of rows) {
    const base = rows.find((r) => r.name === row.baseline);
    if (row.reqPerSec !== undefined && base?.reqPerSec) row.ratio = row.reqPerSec / base.reqPerSec;
  }
  const meta: RunMeta = {
    date,
    ...machine,
    loadAverageAtEnd: loadAverage(),
    connections,
    durationSeconds: durationS,
    warmupSeconds: warmupS,
    writeRequests: writes,
    totalSeconds: (performance.now() - started) / 1000,
  };
  const markdown = renderMarkdown(meta, rows, fanOut);
  console.log(markdown);
  if (redisKeysDeleted > 0) console.log(`(deleted ${redisKeysDeleted} Redis keys of this run)`);
  await mkdir(args.out, { recursive: true });
  await writeFile(new URL('latest.md', `file://${args.out.replace(/\/?$/, '/')}`), markdown);
  await writeFile(
    new URL('latest.json', `file://${args.out.replace(/\/?$/, '/')}`),
    JSON.stringify({ meta, rows, fanOut: fanOut ?? null, redisKeysDeleted }, null, 2) + '\n',
  );
}

main().catch((error: unknown) => {
  console.error('bench failed:', error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
