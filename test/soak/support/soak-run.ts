import { randomUUID } from 'node:crypto';
import { Phone, sleep, within } from '../../chaos/support/clients.js';
import { startCluster, type Cluster } from '../../chaos/support/cluster.js';

/**
 * A soak: one gateway process (on a private Redis and, by default, a throw-away PostgreSQL database)
 * under steady traffic for `seconds`: queries (a charge, a page of charges), charges created and
 * finished at Omise with a phone subscribed to each (so webhooks and subscriptions flow), and extra
 * signed-webhook-like duplicates from the simulator. Every `sampleMs` the gateway's own /metrics are
 * read: RSS, heap used and the event-loop delay (prom-client's monitorEventLoopDelay histogram,
 * p99 per scrape). After the warm-up, the first and last thirds are compared: growth beyond
 * `maxGrowth` fails the run, and so does any error.
 */
export interface SoakOptions {
  seconds: number;
  warmupSeconds: number;
  sampleMs?: number;
  /** Queries per second. */
  queryRate?: number;
  /** New charges (each with a subscribed phone, finished at Omise) per second. */
  chargeRate?: number;
  /** Allowed growth of the last third over the first, after warm-up. Default 0.10. */
  maxGrowth?: number;
  database?: boolean;
  log?: (line: string) => void;
}

export interface Sample {
  at: number;
  rss: number;
  heapUsed: number;
  eventLoopP99Ms: number;
  /** Major (mark-compact) collections so far: a sample taken just after one shows the live heap. */
  majorGcs: number;
}

export interface SoakReport {
  seconds: number;
  requests: number;
  charges: number;
  outcomesSeen: number;
  errors: string[];
  samples: number;
  /** Floors (min) of the first and last thirds after warm-up: the level GC returns to. */
  rss: { first: number; last: number; growth: number };
  /**
   * Heap used in samples taken right after a major collection (the live heap), lowest of the first
   * and of the last third; `null` when too few major collections happened to tell (short runs).
   */
  heapUsed: { first: number; last: number; growth: number; majorGcs: number } | null;
  /** Medians of the per-scrape p99 event-loop delay in the first and last thirds, in ms. */
  eventLoopP99Ms: { first: number; last: number; growth: number };
  problems: string[];
  usedDatabase: boolean;
}

const READ = 'query ($id: ID!) { charge(id: $id) { id status amount refundedAmount } }';
const LIST = 'query { charges(first: 20) { totalCount edges { node { id status } } } }';
const CREATE = `mutation ($input: CreateTrueMoneyChargeInput!) {
  createTrueMoneyCharge(input: $input) { charge { id } userErrors { code message } } }`;

function metric(text: string, name: string, whenMissing?: number): number {
  const escaped = name.replace(/[{}"]/g, (c) => `\\${c}`);
  const match = text.match(new RegExp(`^${escaped} ([0-9.e+-]+)$`, 'm'));
  if (match) return Number(match[1]);
  if (whenMissing !== undefined) return whenMissing;
  throw new Error(`metric ${name} missing`);
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const cluster = await startCluster({
    instances: 1,
    reconcileIntervalSeconds: 5,
    ...(options.database !== undefined && { database: options.database }),
  });
  try {
    return await soak(cluster, options);
  } finally {
    await cluster.close();
  }
}

async function soak(cluster: Cluster, options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => undefined);
  const gateway = cluster.gateways[0]!;
  const errors: string[] = [];
  const samples: Sample[] = [];
  const phones: Phone[] = [];
  const chargeIds: string[] = [];
  let requests = 0;
  let outcomesSeen = 0;
  const started = Date.now();
  const end = started + options.seconds * 1000;
  const note = (what: string) => {
    if (errors.length < 50) errors.push(`${((Date.now() - started) / 1000).toFixed(1)}s ${what}`);
  };

  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    requests++;
    try {
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
      if (response.status !== 200 || body.errors) {
        note(`${response.status} ${JSON.stringify(body).slice(0, 200)}`);
        return undefined;
      }
      return body.data;
    } catch (error) {
      note(`request failed: ${String(error)}`);
      return undefined;
    }
  };

  const sampler = (async () => {
    while (Date.now() < end) {
      await sleep(options.sampleMs ?? 1_000);
      try {
        const text = await (await fetch(`${gateway.origin}/metrics`)).text();
        samples.push({
          at: Date.now() - started,
          rss: metric(text, 'process_resident_memory_bytes'),
          heapUsed: metric(text, 'nodejs_heap_size_used_bytes'),
          eventLoopP99Ms: metric(text, 'nodejs_eventloop_lag_p99_seconds') * 1000,
          // prom-client prints a GC kind only once one happened: no major collection yet is 0.
          majorGcs: metric(text, 'nodejs_gc_duration_seconds_count{kind="major"}', 0),
        });
      } catch (error) {
        note(`metrics: ${String(error)}`);
      }
    }
  })();

  const queries = (async () => {
    const interval = 1000 / (options.queryRate ?? 40);
    let n = 0;
    while (Date.now() < end) {
      const id = chargeIds[n % Math.max(chargeIds.length, 1)];
      void (n % 10 === 0 || id === undefined ? gql(LIST) : gql(READ, { id }));
      n++;
      await sleep(interval);
    }
  })();

  let amount = 10_000;
  const charges = (async () => {
    const interval = 1000 / (options.chargeRate ?? 2);
    while (Date.now() < end - 3_000) {
      void (async () => {
        const data = await gql(CREATE, { input: { amount: (amount += 1), idempotencyKey: randomUUID() } });
        const id = (data?.['createTrueMoneyCharge'] as { charge?: { id: string } } | undefined)?.charge?.id;
        if (!id) return;
        chargeIds.push(id);
        if (chargeIds.length > 500) chargeIds.shift();
        const phone = new Phone(id, () => cluster.gateways, 0);
        phones.push(phone);
        await sleep(200 + Math.random() * 800);
        const outcome = Math.random() < 0.8 ? 'mark_as_paid' : 'mark_as_failed';
        const marked = await cluster.sim.request('POST', `/charges/${id}/${outcome}`).catch(() => undefined);
        if (marked?.status !== 200) note(`${outcome}: ${marked?.status}`);
        const done = await within(phone.done, 15_000);
        if (done && phone.finished) outcomesSeen++;
        else note(`phone of ${id} got no outcome: ${JSON.stringify(phone.events)}`);
        if (phone.errors.length) note(`phone of ${id}: ${phone.errors.join(' | ')}`);
        await phone.close();
        phones.splice(phones.indexOf(phone), 1);
      })();
      await sleep(interval);
    }
  })();

  const progress = setInterval(() => {
    const last = samples.at(-1);
    log(
      `${Math.round((Date.now() - started) / 1000)}s: ${requests} requests, ${outcomesSeen} outcomes, ${errors.length} errors` +
        (last
          ? `, rss ${(last.rss / 2 ** 20).toFixed(0)} MiB, heap ${(last.heapUsed / 2 ** 20).toFixed(0)} MiB, loop p99 ${last.eventLoopP99Ms.toFixed(1)} ms`
          : ''),
    );
  }, 10_000);
  await Promise.all([sampler, queries, charges]);
  // Let the last lifecycles finish.
  const settle = Date.now() + 20_000;
  while (phones.length > 0 && Date.now() < settle) await sleep(200);
  clearInterval(progress);
  for (const phone of phones) await phone.close();

  const after = samples.filter((s) => s.at >= options.warmupSeconds * 1000);
  const third = Math.max(1, Math.floor(after.length / 3));
  const first = after.slice(0, third);
  const last = after.slice(-third);
  const min = (xs: number[]) => Math.min(...xs);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const compare = (f: number, l: number) => ({ first: f, last: l, growth: f > 0 ? l / f - 1 : 0 });
  const rss = compare(min(first.map((s) => s.rss)), min(last.map((s) => s.rss)));
  const afterMajorGc = (window: Sample[]) =>
    window.filter((sample) => {
      const previous = samples[samples.indexOf(sample) - 1];
      return previous !== undefined && sample.majorGcs > previous.majorGcs;
    });
  const [gcFirst, gcLast] = [afterMajorGc(first), afterMajorGc(last)];
  const heapUsed =
    gcFirst.length > 0 && gcLast.length > 0
      ? {
          ...compare(min(gcFirst.map((s) => s.heapUsed)), min(gcLast.map((s) => s.heapUsed))),
          majorGcs: (after.at(-1)?.majorGcs ?? 0) - (after[0]?.majorGcs ?? 0),
        }
      : null;
  const loop = compare(median(first.map((s) => s.eventLoopP99Ms)), median(last.map((s) => s.eventLoopP99Ms)));
  const maxGrowth = options.maxGrowth ?? 0.1;
  const problems = [
    ...errors,
    ...(after.length < 6 ? [`only ${after.length} samples after warm-up`] : []),
    ...(rss.growth > maxGrowth ? [`RSS grew ${(rss.growth * 100).toFixed(1)} %`] : []),
    ...(heapUsed && heapUsed.growth > maxGrowth
      ? [`live heap grew ${(heapUsed.growth * 100).toFixed(1)} %`]
      : []),
    // The event-loop delay of a shared 2-core machine jitters by milliseconds: growth counts only
    // beyond 10 ms as well as beyond maxGrowth.
    ...(loop.growth > maxGrowth && loop.last - loop.first > 10
      ? [`event-loop p99 grew from ${loop.first.toFixed(1)} to ${loop.last.toFixed(1)} ms`]
      : []),
  ];
  return {
    seconds: options.seconds,
    requests,
    charges: amount - 10_000,
    outcomesSeen,
    errors,
    samples: samples.length,
    rss,
    heapUsed,
    eventLoopP99Ms: loop,
    problems,
    usedDatabase: cluster.databaseUrl !== undefined,
  };
}
