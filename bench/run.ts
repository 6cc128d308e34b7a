/**
 * `npm run bench`: loopback load against the gateway, each scenario compared with a baseline measured in
 * the same run. Options: --duration <s> (per read scenario, default 5), --connections <n> (default 50),
 * --only <name>[,<name>...] (a scenario name or prefix; its baseline runs too), --writes <n> (requests per
 * write scenario, default 1500), --rounds <n> (interleaved rounds, default 3), --subscribers <n>
 * (default 200), --trials <n> (fan-out, default 3), --memory-subscribers <n> (default 1000), --out <dir>
 * (default bench/results/), --profile <dir> (V8 CPU profile of the servers' process).
 * Prints a markdown table and writes bench/results/latest.{md,json}. See docs/benchmarks.md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { runLoad, type LoadOptions, type LoadResult } from './load.js';
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
  sourceDescription,
  type FanOutReport,
  type RunMeta,
  type ScenarioRow,
} from './report.js';
import { burst, visibility, type BurstReport, type VisibilityReport } from './burst.js';
import { fanOutTrial, subscriptionMemory, type FanOutTrial } from './subscriptions.js';
import {
  startAnchor,
  startSimulatorProcess,
  startTarget,
  type AnchorProcess,
  type SimulatorProcess,
  type TargetProcess,
} from './target-process.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    only: { type: 'string', multiple: true },
    writes: { type: 'string', default: '6000' },
    subscribers: { type: 'string', default: '200' },
    trials: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    'memory-subscribers': { type: 'string', default: '1000' },
    out: { type: 'string', default: new URL('./results/', import.meta.url).pathname },
    profile: { type: 'string' },
    'burst-sockets': { type: 'string', default: '10000' },
    'burst-charges': { type: 'string', default: '200' },
    'open-rate': { type: 'string', default: '2500' },
    'visibility-trials': { type: 'string', default: '10' },
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
const rounds = Math.round(positive('rounds', args.rounds));
const memorySubscribers = Math.round(positive('memory-subscribers', args['memory-subscribers']));
const burstSockets = Math.round(positive('burst-sockets', args['burst-sockets']));
const burstCharges = Math.round(positive('burst-charges', args['burst-charges']));
const openRate = positive('open-rate', args['open-rate']);
const visibilityTrials = Math.round(positive('visibility-trials', args['visibility-trials']));
const warmupS = Math.min(1, durationS / 5);
/** Longest a write scenario may run, whatever its request count. */
const WRITE_CAP_S = 60;
/**
 * Requests of a write scenario's warm-up. A create runs through many functions (GraphQL, ky, undici,
 * zod, the ledger) that V8 optimises only after they ran often: with 200, the three rounds of 500 that
 * followed ran at 930, 1,114 and 1,545 creates/s, still warming up.
 */
const WRITE_WARMUP = 1000;
const FAN_OUT_TIMEOUT_MS = 15_000;
const OMISE_CALL_PROBES = 20;
const SETTLE_POLL_MS = 150;
const SETTLE_MAX_MS = 10_000;

type AnchorKind = 'apollo' | 'mercurius';

interface Context {
  info: TargetInfo;
  target: TargetProcess;
  /** Anchor servers, each in a process of its own (started when a scenario needs them). */
  anchors: Partial<Record<AnchorKind, AnchorProcess>>;
  /**
   * The issue's target scenarios as the issue measured them, every server in its own process: a second
   * target process whose heap and event loop serve only them (its auth gateway for `charge-paid`, a
   * memory gateway for the creates) and, for the creates, the simulator in a process of its own.
   */
  isolated?: { target: TargetProcess; simulator: SimulatorProcess; writesGatewayUrl: string };
}

/** The scenarios measured in the isolated processes (see Context.isolated). */
const ISOLATED = ['charge-paid', 'simulator-create', 'create-no-key', 'create-idempotent-memory'];

function isolatedOf(ctx: Context): NonNullable<Context['isolated']> {
  if (!ctx.isolated) throw new Error('this scenario needs the isolated processes (Context.isolated)');
  return ctx.isolated;
}

/** The target process that serves a scenario (its Omise calls, its CPU). */
function targetOf(ctx: Context, scenario: LoadScenario): TargetProcess {
  return ISOLATED.includes(scenario.name) ? isolatedOf(ctx).target : ctx.target;
}

interface LoadScenario {
  number: string;
  name: string;
  title: string;
  baseline?: string;
  /** Reads run for --duration; writes for --writes requests. */
  kind: 'read' | 'write';
  countOmiseCalls?: boolean;
  /** Count the Omise calls over the measured rounds too (calls / requests under load). */
  omiseCallsUnderLoad?: boolean;
  /** The anchor process that serves it (its CPU is measured); default the target process. */
  /** The process whose CPU the scenario reports: an anchor, the simulator's own, else the target's. */
  server?: AnchorKind | 'simulator';
  /** Concurrent connections; default --connections. */
  connections?: number;
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

const anchorUrl = (ctx: Context, kind: AnchorKind): string => {
  const anchor = ctx.anchors[kind];
  if (!anchor) throw new Error(`the ${kind} anchor is not running`);
  return anchor.url;
};
const hasCharge = (body: string) => body.startsWith('{"data":{"charge":{"id":');
const POLLERS = 200;

const SCENARIOS: LoadScenario[] = [
  {
    number: 'A1',
    name: 'apollo-hello',
    title:
      'anchor: Apollo Server 5 `startStandaloneServer` (defaults) answering the same `charge(id)` query with a constant object, in its own process',
    kind: 'read',
    server: 'apollo',
    load: (ctx) => ({
      url: anchorUrl(ctx, 'apollo'),
      body: graphqlBody(CHARGE_QUERY, { id: ctx.info.paidChargeId }),
      isGoodBody: hasCharge,
    }),
  },
  {
    number: 'A2',
    name: 'mercurius-jit-hello',
    title:
      'anchor: Mercurius (Fastify) with graphql-jit answering the same query, in its own process: the high-water mark',
    baseline: 'apollo-hello',
    kind: 'read',
    server: 'mercurius',
    load: (ctx) => ({
      url: anchorUrl(ctx, 'mercurius'),
      body: graphqlBody(CHARGE_QUERY, { id: ctx.info.paidChargeId }),
      isGoodBody: hasCharge,
    }),
  },
  {
    number: '8',
    name: 'charge-paid',
    title:
      "repeated `charge(id)` of a paid charge, authentication on (an API key on every request): the charge cache answers; the gateway in a process that serves only the issue's target scenarios",
    baseline: 'apollo-hello',
    kind: 'read',
    countOmiseCalls: true,
    omiseCallsUnderLoad: true,
    load: (ctx) => {
      const { info } = isolatedOf(ctx).target;
      return {
        url: info.gatewayAuthUrl,
        headers: { authorization: `Bearer ${info.apiKey}` },
        body: graphqlBody(CHARGE_QUERY, { id: info.paidChargeId }),
        isGoodBody: isGraphQLData(`"id":"${info.paidChargeId}"`),
      };
    },
  },
  {
    number: '9',
    name: 'polling-storm',
    title: `${POLLERS} clients polling one pending charge with \`charge(id)\` (no webhook comes: the pending entry is re-read from Omise when it expires, 1 s)`,
    baseline: 'apollo-hello',
    kind: 'read',
    connections: POLLERS,
    countOmiseCalls: true,
    omiseCallsUnderLoad: true,
    load: ({ info }) => ({
      url: info.gatewayUrl,
      body: graphqlBody(CHARGE_QUERY, { id: info.pollingChargeId }),
      isGoodBody: isGraphQLData(`"id":"${info.pollingChargeId}"`),
    }),
  },
  {
    number: '7s',
    name: 'simulator-create',
    title:
      "the simulator's own `POST /charges` (JSON, secret key, inline TrueMoney source), the simulator in a process of its own: the Omise side of a create, no gateway",
    kind: 'write',
    server: 'simulator',
    load: (ctx) => ({
      url: `${isolatedOf(ctx).simulator.info.url}/charges`,
      headers: {
        authorization: `Basic ${Buffer.from(`${isolatedOf(ctx).simulator.info.secretKey}:`).toString('base64')}`,
      },
      body: JSON.stringify({ amount: 10_000, currency: 'THB', source: { type: 'truemoney_qr' } }),
      isGoodBody: (body) => /"object":\s*"charge"/.test(body),
    }),
  },
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
      "bare node:http server whose every answer is one `retrieveCharge` of the gateway's own OmiseClient (ky over the pooled undici fetch, retries policy, zod): the Omise client's cost without GraphQL",
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
    number: '3n',
    name: 'omise-client-node-fetch',
    title:
      "the `omise-client` relay with the OmiseClient's calls over Node's global fetch instead of its pooled undici fetch: what the pooled fetch saves",
    baseline: 'omise-direct',
    kind: 'read',
    load: ({ info }) => ({
      url: info.nodeFetchRelayUrl,
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
      '`charge(id)` of a pending charge through the gateway (auth off): served from the charge cache, re-read from Omise when its pending entry expires (1 s)',
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
      '`createTrueMoneyCharge` without an idempotency key (memory stores): one POST /charges with an inline TrueMoney source at the simulator, which runs in a process of its own',
    baseline: 'simulator-create',
    kind: 'write',
    countOmiseCalls: true,
    load: (ctx) => ({
      url: isolatedOf(ctx).writesGatewayUrl,
      nextBody: createBody(false),
      isGoodBody: isCreated,
    }),
  },
  {
    number: '7b',
    name: 'create-idempotent-memory',
    title: '`createTrueMoneyCharge` with a unique idempotency key per request, in-memory key store',
    baseline: 'create-no-key',
    kind: 'write',
    countOmiseCalls: true,
    load: (ctx) => ({
      url: isolatedOf(ctx).writesGatewayUrl,
      nextBody: createBody(true),
      isGoodBody: isCreated,
    }),
  },
  {
    number: '7c',
    name: 'create-idempotent-redis',
    title:
      "`createTrueMoneyCharge` with a unique idempotency key per request, Redis key store (127.0.0.1:6379, private key prefix, deleted afterwards); its simulator shares the gateway's process",
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
const BURST_NAME = 'burst';
const VISIBILITY_NAME = 'visibility';

/** Names selected by --only, with the baselines they need (a ratio needs its baseline in the same run). */
function selected(): Set<string> {
  const all = [...SCENARIOS.map((s) => s.name), FAN_OUT_NAME, BURST_NAME, VISIBILITY_NAME];
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
  target: TargetProcess,
  options: Omit<LoadOptions, 'connections' | 'duration'>,
): Promise<number> {
  await settle(ctx);
  const before = await target.omiseCalls();
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
  return ((await target.omiseCalls()) - before) / OMISE_CALL_PROBES;
}

/**
 * Waits until the servers have finished what an earlier load run left in flight (its Omise calls stop
 * increasing), so that it neither adds to the next count nor competes with the next run.
 */
async function settle(ctx: Context): Promise<void> {
  const until = performance.now() + SETTLE_MAX_MS;
  const omiseCalls = async () =>
    (await ctx.target.omiseCalls()) + (ctx.isolated ? await ctx.isolated.target.omiseCalls() : 0);
  let previous = await omiseCalls();
  while (performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    const current = await omiseCalls();
    if (current === previous) return;
    previous = current;
  }
}

interface Prepared {
  scenario: LoadScenario;
  options: Omit<LoadOptions, 'connections' | 'duration'>;
  omiseCallsPerRequest?: number;
  rounds: Round[];
}

/** Warm-up (JIT, connection pools, caches) and the exact Omise call count, before any measured round. */
async function prepare(ctx: Context, scenario: LoadScenario): Promise<Prepared | ScenarioRow> {
  const options = scenario.load(ctx);
  if ('skip' in options) return { ...rowOf(scenario), skipped: options.skip };
  await settle(ctx);
  const conns = scenario.connections ?? connections;
  if (scenario.kind === 'read') await runLoad({ ...options, connections: conns, duration: warmupS });
  else
    await runLoad({
      ...options,
      connections: conns,
      duration: WRITE_CAP_S,
      amount: Math.min(WRITE_WARMUP, writes),
    });
  const omiseCallsPerRequest = scenario.countOmiseCalls
    ? await omiseCallsPerRequestOf(ctx, targetOf(ctx, scenario), options)
    : undefined;
  return {
    scenario,
    options,
    ...(omiseCallsPerRequest !== undefined && { omiseCallsPerRequest }),
    rounds: [],
  };
}

interface Round extends LoadResult {
  /** CPU time of the servers' process per completed request (the load generator not included). */
  targetCpuUsPerRequest: number;
  /** Omise calls the gateways made during the round (scenarios with omiseCallsUnderLoad). */
  omiseCalls?: number;
}

/** CPU microseconds of the process that serves the scenario. */
function cpuOf(ctx: Context, scenario: LoadScenario): Promise<number> {
  if (scenario.server === 'simulator') return isolatedOf(ctx).simulator.cpu();
  if (scenario.server) return ctx.anchors[scenario.server]?.cpu() ?? Promise.resolve(NaN);
  return targetOf(ctx, scenario).cpu();
}

async function measureRound(ctx: Context, prepared: Prepared): Promise<void> {
  await settle(ctx);
  const { scenario } = prepared;
  const base = { ...prepared.options, connections: scenario.connections ?? connections };
  const cpuBefore = await cpuOf(ctx, scenario);
  const target = targetOf(ctx, scenario);
  const callsBefore = scenario.omiseCallsUnderLoad ? await target.omiseCalls() : 0;
  const result =
    prepared.scenario.kind === 'read'
      ? await runLoad({ ...base, duration: durationS / rounds })
      : await runLoad({
          ...base,
          duration: WRITE_CAP_S,
          amount: Math.max(connections, Math.round(writes / rounds)),
        });
  // What was still in flight when the load stopped belongs to this round's CPU time.
  await settle(ctx);
  const cpuUs = (await cpuOf(ctx, scenario)) - cpuBefore;
  prepared.rounds.push({
    ...result,
    targetCpuUsPerRequest: result.requests > 0 ? cpuUs / result.requests : NaN,
    ...(scenario.omiseCallsUnderLoad && { omiseCalls: (await target.omiseCalls()) - callsBefore }),
  });
}

function rowOf(scenario: LoadScenario): ScenarioRow {
  return {
    number: scenario.number,
    name: scenario.name,
    title: scenario.title,
    ...(scenario.baseline && { baseline: scenario.baseline }),
  };
}

/** req/s over all rounds (total requests / total time); latencies are the medians of the rounds'. */
function summarize(prepared: Prepared): ScenarioRow {
  const { rounds: results } = prepared;
  const requests = results.reduce((sum, r) => sum + r.requests, 0);
  const seconds = results.reduce((sum, r) => sum + r.seconds, 0);
  const failures = results.reduce((sum, r) => sum + r.failures, 0);
  const detail = results.map((r) => r.failureDetail).filter(Boolean);
  return {
    ...rowOf(prepared.scenario),
    reqPerSec: seconds > 0 ? requests / seconds : 0,
    p50Ms: median(results.map((r) => r.p50Ms)),
    p99Ms: median(results.map((r) => r.p99Ms)),
    targetCpuUsPerRequest: median(results.map((r) => r.targetCpuUsPerRequest)),
    requests,
    seconds,
    failures,
    ...(detail.length > 0 && { failureDetail: detail.join('; ') }),
    ...(prepared.omiseCallsPerRequest !== undefined && {
      omiseCallsPerRequest: prepared.omiseCallsPerRequest,
    }),
    ...(prepared.scenario.omiseCallsUnderLoad &&
      requests > 0 && {
        omiseCallsPerRequestUnderLoad: results.reduce((sum, r) => sum + (r.omiseCalls ?? 0), 0) / requests,
      }),
    roundReqPerSec: results.map((r) => r.reqPerSec),
  };
}

async function runFanOut(ctx: Context): Promise<FanOutReport> {
  process.stderr.write('bench: subscription-fanout ...');
  await ctx.target.webhooks(true);
  try {
    return await fanOut(ctx);
  } catch (error) {
    // The other scenarios still run; the report says what went wrong.
    const reason = `failed: ${(error as Error).message}`;
    process.stderr.write(` ${reason}\n`);
    return { skipped: reason };
  } finally {
    await ctx.target.webhooks(false);
  }
}

async function fanOut(ctx: Context): Promise<FanOutReport> {
  const deps = {
    gatewayUrl: ctx.info.gatewayUrl,
    memory: () => ctx.target.memory(),
    omiseCalls: () => ctx.target.omiseCalls(),
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
  const memory = await subscriptionMemory(deps, memorySubscribers);
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
  return { memory, single: { subscribers: 1, trials: single }, many: { subscribers, trials: many }, ratio };
}

/**
 * The burst, with the Omise simulator in a process of its own (as the issue measured it: every server
 * in its own process): the gateway's process does only the gateway's work, and its CPU is the figure.
 */
async function runBurst(ctx: Context): Promise<BurstReport | { skipped: string }> {
  process.stderr.write(`bench: burst (${burstSockets} sockets, ${burstCharges} charges) ...`);
  let simulator: SimulatorProcess | undefined;
  try {
    simulator = await startSimulatorProcess(args.profile ? { cpuProfileDir: args.profile } : {});
    const gateway = await ctx.target.startExternalGateway(simulator.info);
    await simulator.webhooks([gateway.webhookUrl]);
    const sim = simulator;
    const report = await burst(
      {
        gatewayUrl: gateway.url,
        simulatorUrl: sim.info.url,
        simulatorSecretKey: sim.info.secretKey,
        memory: () => ctx.target.memory(),
        omiseCalls: () => ctx.target.omiseCalls(),
        cpu: () => ctx.target.cpu(),
        simulatorCpu: () => sim.cpu(),
      },
      { sockets: burstSockets, charges: burstCharges, openPerSecond: openRate, timeoutMs: 30_000 },
    );
    process.stderr.write(` registered ${report.registered}, p99 ${report.p99Ms.toFixed(0)} ms\n`);
    return report;
  } catch (error) {
    const reason = `failed: ${(error as Error).message}`;
    process.stderr.write(` ${reason}\n`);
    return { skipped: reason };
  } finally {
    await simulator?.close();
  }
}

async function runVisibility(ctx: Context): Promise<VisibilityReport | { skipped: string }> {
  const { gatewayRedisUrl, gatewayRedisSecondUrl } = ctx.info;
  if (!gatewayRedisUrl || !gatewayRedisSecondUrl)
    return { skipped: ctx.info.redisNote ?? 'no Redis gateways' };
  process.stderr.write('bench: visibility ...');
  await ctx.target.webhooks(true, 'redis');
  try {
    const report = await visibility(
      {
        urls: [gatewayRedisUrl, gatewayRedisSecondUrl],
        simulatorUrl: ctx.info.simulatorUrl,
        simulatorSecretKey: ctx.info.simulatorSecretKey,
      },
      visibilityTrials,
    );
    process.stderr.write(` max ${report.maxMs.toFixed(0)} ms\n`);
    return report;
  } catch (error) {
    const reason = `failed: ${(error as Error).message}`;
    process.stderr.write(` ${reason}\n`);
    return { skipped: reason };
  } finally {
    await ctx.target.webhooks(false);
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const date = new Date().toISOString();
  const machine = machineMeta();
  const names = selected();
  const target = await startTarget({
    redis: names.has('create-idempotent-redis') || names.has(VISIBILITY_NAME),
    ...(args.profile && { cpuProfileDir: args.profile }),
  });
  const anchors: Context['anchors'] = {};
  const ctx: Context = { info: target.info, target, anchors };
  const rows: ScenarioRow[] = [];
  let fanOut: FanOutReport | undefined;
  let burstReport: BurstReport | { skipped: string } | undefined;
  let visibilityReport: VisibilityReport | { skipped: string } | undefined;
  let redisKeysDeleted = 0;
  let simulator: SimulatorProcess | undefined;
  let isolatedTarget: TargetProcess | undefined;
  try {
    if (names.has('apollo-hello')) anchors.apollo = await startAnchor('apollo');
    if (names.has('mercurius-jit-hello')) anchors.mercurius = await startAnchor('mercurius');
    if (ISOLATED.some((name) => names.has(name))) {
      const profile = args.profile ? { cpuProfileDir: args.profile } : {};
      isolatedTarget = await startTarget({ redis: false, ...profile });
      simulator = await startSimulatorProcess(profile);
      const writesGateway = await isolatedTarget.startExternalGateway(simulator.info);
      ctx.isolated = { target: isolatedTarget, simulator, writesGatewayUrl: writesGateway.url };
    }
    // First, while the servers' heap is fresh: the memory figures are clearest then.
    if (names.has(FAN_OUT_NAME)) fanOut = await runFanOut(ctx);
    if (names.has(BURST_NAME)) burstReport = await runBurst(ctx);
    if (names.has(VISIBILITY_NAME)) visibilityReport = await runVisibility(ctx);
    const prepared: Prepared[] = [];
    for (const scenario of SCENARIOS.filter((s) => names.has(s.name))) {
      process.stderr.write(`bench: warming up ${scenario.name}\n`);
      const result = await prepare(ctx, scenario).catch((error: unknown): ScenarioRow => ({
        ...rowOf(scenario),
        skipped: `failed: ${(error as Error).message}`,
      }));
      if ('rounds' in result) prepared.push(result);
      else rows.push(result);
    }
    // Rounds interleave the scenarios, so that a baseline and what is compared with it see the same
    // background load from other processes (a shared machine drifts over a minute).
    for (let round = 1; round <= rounds; round++) {
      for (const p of prepared) {
        await measureRound(ctx, p);
        const last = p.rounds.at(-1);
        process.stderr.write(
          `bench: round ${round}/${rounds} ${p.scenario.name}: ${Math.round(last?.reqPerSec ?? 0)} req/s\n`,
        );
      }
    }
    rows.push(...prepared.map(summarize));
    const order = SCENARIOS.map((s) => s.name);
    rows.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  } finally {
    redisKeysDeleted = await target.cleanupRedis().catch(() => -1);
    await Promise.all(Object.values(anchors).map((anchor) => anchor.close()));
    await isolatedTarget?.close();
    await simulator?.close();
    await target.close();
  }

  for (const row of rows) {
    const base = rows.find((r) => r.name === row.baseline);
    if (row.reqPerSec !== undefined && base?.reqPerSec) row.ratio = row.reqPerSec / base.reqPerSec;
    // Round i of a scenario ran right after round i of the scenarios before it: per-round ratios show the noise.
    const mine = row.roundReqPerSec ?? [];
    const theirs = base?.roundReqPerSec ?? [];
    if (mine.length > 0 && mine.length === theirs.length) {
      row.roundRatios = mine.map((v, i) => v / (theirs[i] ?? NaN));
    }
    if (row.targetCpuUsPerRequest !== undefined && base?.targetCpuUsPerRequest) {
      row.cpuRatio = row.targetCpuUsPerRequest / base.targetCpuUsPerRequest;
    }
  }
  const meta: RunMeta = {
    date,
    source: sourceDescription(),
    ...machine,
    loadAverageAtEnd: loadAverage(),
    connections,
    durationSeconds: durationS,
    warmupSeconds: warmupS,
    writeRequests: writes,
    rounds,
    totalSeconds: (performance.now() - started) / 1000,
  };
  const markdown = renderMarkdown(meta, rows, fanOut, burstReport, visibilityReport);
  console.log(markdown);
  if (redisKeysDeleted > 0) console.log(`(deleted ${redisKeysDeleted} Redis keys of this run)`);
  await mkdir(args.out, { recursive: true });
  await writeFile(new URL('latest.md', `file://${args.out.replace(/\/?$/, '/')}`), markdown);
  await writeFile(
    new URL('latest.json', `file://${args.out.replace(/\/?$/, '/')}`),
    JSON.stringify(
      {
        meta,
        rows,
        fanOut: fanOut ?? null,
        burst: burstReport ?? null,
        visibility: visibilityReport ?? null,
        redisKeysDeleted,
      },
      null,
      2,
    ) + '\n',
  );
}

main().catch((error: unknown) => {
  console.error('bench failed:', error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
