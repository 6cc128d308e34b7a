import { randomUUID } from 'node:crypto';
import { newClientStats, Phone, RetryingGraphQLClient, sleep, within, type ClientStats } from './clients.js';
import { startCluster, type Cluster } from './cluster.js';

/**
 * A chaos run: hundreds of charges through two gateway instances while faults are injected from the
 * outside (the simulator's fault injection, SIGKILL of an instance, a Redis restart, SIGTERM rolling
 * restarts). Every charge: keyed create (retried by its client) → a phone subscribes (reconnecting,
 * possibly to the other instance) → Omise finishes it (paid, failed or expired) → paid ones get
 * partial refunds or a void (keyed, retried). Then everything is compared with what Omise holds.
 */
export interface ChaosOptions {
  charges: number;
  /** Charges in flight at once. */
  concurrency: number;
  reconcileIntervalSeconds: number;
  /** Simulator faults during the run (see docs/simulator.md). */
  faults: Record<string, number | boolean>;
  /** Flip `dropAfterProcessing` this often, so both kinds of dropped connection happen. */
  flipDropEveryMs?: number;
  /** At this fraction of charges started: SIGKILL the first instance, start it again after `downMs`. */
  kill?: { at: number; downMs: number; withMutationsInFlight: boolean };
  /** At this fraction: kill the private redis-server, start it again (empty) after `downMs`. */
  redisRestart?: { at: number; downMs: number };
  /** At this fraction: SIGTERM each instance in turn, waiting for it to exit and start again. */
  rollingRestart?: { at: number };
  /** How long the run may take in all before it gives up (ms). */
  deadlineMs: number;
  database?: boolean;
  shutdownGraceSeconds?: number;
  log?: (line: string) => void;
  logLevel?: string;
  logDir?: string;
}

type Outcome = 'paid' | 'failed' | 'expired';
type AfterPaid = 'refunds' | 'void' | 'none';

interface ChargeRun {
  index: number;
  amount: number;
  outcome: Outcome;
  afterPaid: AfterPaid;
  chargeId?: string;
  phone?: Phone;
  /** When the first request that finished the charge at Omise was sent. */
  finishedAt?: number;
  /** Refund amounts the gateway confirmed (a void counts as one refund of the whole amount). */
  refunded: number[];
  error?: string;
}

export interface ChaosReport {
  charges: number;
  created: number;
  outcomes: Record<Outcome, number>;
  refundsAsked: number;
  voidsAsked: number;
  faultsInjected: Record<string, number>;
  webhookDeliveries: { attempts: number; lost: number; duplicated: number; failed: number };
  disruptions: string[];
  client: ClientStats;
  phones: { reconnects: number; resubscribes: number; closeCodes: Record<string, number> };
  /** Phones whose last status differs from Omise's, or that never got a terminal one. */
  outcomesLost: string[];
  duplicateCharges: number;
  /** Charges whose refunds at Omise differ from what was asked (count or total) . */
  refundMismatches: string[];
  /** Charges the gateway still shows pending (a `charge` query) though Omise finished them. */
  staleReads: string[];
  /** Time from the request that finished a charge at Omise to its phone seeing the outcome (ms). */
  outcomeDelayMs: { p50: number; p99: number; max: number };
  /** Phones that saw the outcome later than one reconciliation interval (+20 % jitter) after Omise had it. */
  lateOutcomes: string[];
  failures: string[];
  durationMs: number;
  usedDatabase: boolean;
}

const CREATE = `mutation ($input: CreateTrueMoneyChargeInput!) {
  createTrueMoneyCharge(input: $input) { charge { id status } userErrors { code message } } }`;
const REFUND = `mutation ($input: RefundChargeInput!) {
  refundCharge(input: $input) { refund { id amount } userErrors { code message } } }`;
const VOID = `mutation ($input: VoidChargeInput!) {
  voidCharge(input: $input) { refund { id amount voided } userErrors { code message } } }`;
const READ = `query ($id: ID!) { charge(id: $id) { id status refundedAmount } }`;

interface Payload {
  userErrors: { code: string; message: string }[];
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const deadline = started + options.deadlineMs;
  const cluster = await startCluster({
    instances: 2,
    reconcileIntervalSeconds: options.reconcileIntervalSeconds,
    ...(options.database !== undefined && { database: options.database }),
    ...(options.shutdownGraceSeconds !== undefined && { shutdownGraceSeconds: options.shutdownGraceSeconds }),
    // Short enough that retries fit a CI run; long enough for the simulator's latency fault.
    omiseTimeoutMs: 3_000,
    omiseMaxAttempts: 3,
    ...(options.logLevel !== undefined && { logLevel: options.logLevel }),
    ...(options.logDir !== undefined && { logDir: options.logDir }),
  });
  log(`cluster up in ${Date.now() - started} ms (database: ${cluster.databaseUrl ? 'yes' : 'no'})`);
  try {
    return await drive(cluster, options, deadline, log, started);
  } finally {
    await cluster.close();
  }
}

async function drive(
  cluster: Cluster,
  options: ChaosOptions,
  deadline: number,
  log: (line: string) => void,
  started: number,
): Promise<ChaosReport> {
  const stats = newClientStats();
  const gateways = () => cluster.gateways;
  const avoidForMutations = new Set<string>();
  const client = new RetryingGraphQLClient(gateways, stats, { timeoutMs: 15_000, deadline: () => deadline });
  const disruptions: string[] = [];
  const failures: string[] = [];

  await cluster.sim.call('POST', '/_simulator/faults', { ...options.faults, seed: 7 });

  const runs: ChargeRun[] = Array.from({ length: options.charges }, (_, index) => {
    const roll = index % 20;
    const outcome: Outcome = roll < 12 ? 'paid' : roll < 16 ? 'failed' : 'expired';
    const afterPaid: AfterPaid = index % 4 === 0 ? 'void' : index % 4 === 3 ? 'none' : 'refunds';
    // A unique amount per charge: two Omise charges with one amount are a duplicate.
    return { index, amount: 20_000 + index * 100, outcome, afterPaid, refunded: [] };
  });

  let startedCount = 0;
  const milestones: { at: number; run: () => Promise<void>; name: string }[] = [];
  if (options.kill) {
    const { downMs, withMutationsInFlight } = options.kill;
    milestones.push({
      at: options.kill.at,
      name: 'SIGKILL',
      run: async () => {
        const victim = cluster.gateways[0]!;
        if (!withMutationsInFlight) {
          // Mutations stop going to the victim and those in flight there finish first.
          avoidForMutations.add(victim.name);
          await sleep(3_000);
        }
        await victim.kill();
        disruptions.push(`${new Date().toISOString()} SIGKILL ${victim.name}`);
        log(`SIGKILL ${victim.name}`);
        await sleep(downMs);
        await victim.start();
        avoidForMutations.delete(victim.name);
        disruptions.push(`${new Date().toISOString()} ${victim.name} started again`);
        log(`${victim.name} started again`);
      },
    });
  }
  if (options.redisRestart) {
    const { downMs } = options.redisRestart;
    milestones.push({
      at: options.redisRestart.at,
      name: 'Redis restart',
      run: async () => {
        disruptions.push(`${new Date().toISOString()} Redis killed`);
        log('Redis killed');
        await cluster.restartRedis(downMs);
        disruptions.push(`${new Date().toISOString()} Redis started again (empty)`);
        log('Redis started again');
      },
    });
  }
  if (options.rollingRestart) {
    milestones.push({
      at: options.rollingRestart.at,
      name: 'rolling restart',
      run: async () => {
        for (const gateway of cluster.gateways) {
          const { code, ms } = await gateway.terminate();
          disruptions.push(
            `${new Date().toISOString()} SIGTERM ${gateway.name}: exit ${code} after ${ms} ms`,
          );
          log(`SIGTERM ${gateway.name}: exit ${code} after ${ms} ms`);
          if (code !== 0) failures.push(`${gateway.name} exited ${code} on SIGTERM`);
          await gateway.start();
        }
      },
    });
  }
  // One disruption at a time, in order: each waits for the previous one to be over.
  let disruptionsDone = Promise.resolve();
  const fire = () => {
    for (const milestone of milestones.splice(0)) {
      if (startedCount / options.charges >= milestone.at) {
        disruptionsDone = disruptionsDone.then(() =>
          milestone.run().catch((error: unknown) => {
            failures.push(`${milestone.name}: ${String(error)}`);
          }),
        );
      } else milestones.push(milestone);
    }
  };

  let flipping = true;
  const flipper = (async () => {
    if (!options.flipDropEveryMs) return;
    let after = false;
    while (flipping) {
      await sleep(options.flipDropEveryMs);
      after = !after;
      await cluster.sim
        .call('POST', '/_simulator/faults', { dropAfterProcessing: after })
        .catch(() => undefined);
    }
  })();

  const mutationTargets = () => avoidForMutations;
  let finishedCount = 0;
  const progress = setInterval(() => {
    log(
      `progress: ${startedCount} started, ${finishedCount} driven; retried ${JSON.stringify(stats.retriedCodes)}, network errors ${stats.networkErrors}`,
    );
  }, 10_000);
  const queue = [...runs];
  const workers = Array.from({ length: options.concurrency }, async () => {
    for (let run = queue.shift(); run; run = queue.shift()) {
      startedCount++;
      fire();
      try {
        await lifecycle(run, cluster, client, mutationTargets);
      } catch (error) {
        run.error = String(error);
      }
      finishedCount++;
    }
  });
  await Promise.all(workers);
  clearInterval(progress);
  await disruptionsDone;
  flipping = false;
  await flipper;
  log(`all ${runs.length} lifecycles driven in ${Date.now() - started} ms; waiting for the phones`);

  // Omise stops misbehaving; the phones must now all reach the outcome.
  await cluster.sim.call('POST', '/_simulator/faults', {
    errorRate: 0,
    rateLimitRate: 0,
    dropRate: 0,
    latencyMs: 0,
    webhookLossRate: 0,
    webhookDuplicateRate: 0,
  });
  const phones = runs.flatMap((r) => (r.phone ? [r.phone] : []));
  await within(Promise.all(phones.map((p) => p.done)), Math.max(deadline - Date.now(), 1_000));

  const report = await verify(cluster, runs, client, options, stats, disruptions, failures, started);
  await Promise.all(phones.map((p) => p.close()));
  return report;
}

async function lifecycle(
  run: ChargeRun,
  cluster: Cluster,
  client: RetryingGraphQLClient,
  avoid: () => Set<string>,
): Promise<void> {
  const created = await client.request<{
    createTrueMoneyCharge: Payload & { charge: { id: string } | null };
  }>(
    CREATE,
    { input: { amount: run.amount, idempotencyKey: `chaos-create-${run.index}-${randomUUID()}` } },
    (d) => d.createTrueMoneyCharge,
    avoid,
  );
  const payload = created.data.createTrueMoneyCharge;
  if (!payload.charge) throw new Error(`create refused: ${JSON.stringify(payload.userErrors)}`);
  run.chargeId = payload.charge.id;
  run.phone = new Phone(run.chargeId, () => cluster.gateways, run.index);
  await sleep(100 + Math.random() * 400);

  run.finishedAt = Date.now();
  const path = `/charges/${run.chargeId}/${run.outcome === 'paid' ? 'mark_as_paid' : run.outcome === 'failed' ? 'mark_as_failed' : 'expire'}`;
  await finishAtOmise(cluster, run.chargeId, path);

  if (run.outcome !== 'paid' || run.afterPaid === 'none') return;
  await sleep(Math.random() * 300);
  if (run.afterPaid === 'void') {
    const answer = await client.request<{ voidCharge: Payload & { refund: { amount: number } | null } }>(
      VOID,
      { input: { chargeId: run.chargeId, idempotencyKey: `chaos-void-${run.index}-${randomUUID()}` } },
      (d) => d.voidCharge,
      avoid,
    );
    const refund = answer.data.voidCharge.refund;
    if (!refund) throw new Error(`void refused: ${JSON.stringify(answer.data.voidCharge.userErrors)}`);
    run.refunded.push(refund.amount);
    return;
  }
  for (const share of [4, 5]) {
    const amount = Math.floor(run.amount / share);
    const answer = await client.request<{ refundCharge: Payload & { refund: { amount: number } | null } }>(
      REFUND,
      {
        input: {
          chargeId: run.chargeId,
          amount,
          idempotencyKey: `chaos-refund-${run.index}-${share}-${randomUUID()}`,
        },
      },
      (d) => d.refundCharge,
      avoid,
    );
    const refund = answer.data.refundCharge.refund;
    if (!refund) throw new Error(`refund refused: ${JSON.stringify(answer.data.refundCharge.userErrors)}`);
    run.refunded.push(refund.amount);
  }
}

/** Marks the charge at Omise, retrying through API faults; an answer lost after processing shows as "no longer pending". */
async function finishAtOmise(cluster: Cluster, chargeId: string, path: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const answer = await cluster.sim.request<{ code?: string }>('POST', path).catch(() => undefined);
    if (answer && answer.status === 200) return;
    if (answer && answer.status === 400) {
      // A retry after a dropped answer: the first attempt did it.
      const charge = await cluster.sim
        .request<{ status: string }>('GET', `/charges/${chargeId}`)
        .catch(() => undefined);
      if (charge?.status === 200 && charge.body.status !== 'pending') return;
    }
    await sleep(100 + Math.random() * 200);
  }
  throw new Error(`could not ${path}`);
}

const OMISE_TO_GATEWAY: Record<string, string> = {
  successful: 'SUCCESSFUL',
  failed: 'FAILED',
  expired: 'EXPIRED',
  reversed: 'REVERSED',
  pending: 'PENDING',
};

async function verify(
  cluster: Cluster,
  runs: ChargeRun[],
  client: RetryingGraphQLClient,
  options: ChaosOptions,
  stats: ClientStats,
  disruptions: string[],
  failures: string[],
  started: number,
): Promise<ChaosReport> {
  await cluster.sim.call('POST', '/_simulator/faults/reset');
  for (const run of runs) if (run.error) failures.push(`charge #${run.index}: ${run.error}`);

  // Every charge at Omise, by amount.
  const omiseCharges: { id: string; amount: number; status: string }[] = [];
  for (let offset = 0; ; offset += 100) {
    const page = await cluster.sim.call<{
      data: { id: string; amount: number; status: string }[];
      total: number;
    }>('GET', `/charges?limit=100&offset=${offset}`);
    omiseCharges.push(...page.data);
    if (offset + 100 >= page.total) break;
  }
  const byAmount = new Map<number, number>();
  for (const c of omiseCharges) byAmount.set(c.amount, (byAmount.get(c.amount) ?? 0) + 1);
  const duplicateCharges = [...byAmount.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0);
  const omiseById = new Map(omiseCharges.map((c) => [c.id, c]));

  const outcomesLost: string[] = [];
  const refundMismatches: string[] = [];
  const staleReads: string[] = [];
  const lateOutcomes: string[] = [];
  const delays: number[] = [];
  const intervalMs = options.reconcileIntervalSeconds * 1000;
  const outcomes: Record<Outcome, number> = { paid: 0, failed: 0, expired: 0 };
  let refundsAsked = 0;
  let voidsAsked = 0;
  for (const run of runs) {
    if (!run.chargeId) continue;
    outcomes[run.outcome]++;
    const omise = omiseById.get(run.chargeId);
    const expected = omise ? OMISE_TO_GATEWAY[omise.status] : undefined;
    const phone = run.phone!;
    const final = phone.final;
    if (!final?.terminal || final.status !== expected) {
      outcomesLost.push(
        `${run.chargeId} (#${run.index}): Omise ${omise?.status}, phone ${JSON.stringify(phone.events.map((e) => e.status))}, errors ${phone.errors.slice(-2).join(' | ')}`,
      );
    } else if (run.finishedAt !== undefined) {
      const terminalAt = phone.events.find((e) => e.terminal)!.at;
      const delay = Math.max(0, terminalAt - run.finishedAt);
      delays.push(delay);
      if (delay > intervalMs * 1.2 + 2_000) {
        lateOutcomes.push(
          `${run.chargeId}: ${delay} ms (finished at Omise ${new Date(run.finishedAt).toISOString()}, phone reconnects ${phone.reconnects}, resubscribes ${phone.resubscribes})`,
        );
      }
    }
    const read = await client
      .request<{ charge: { status: string; refundedAmount: number } | null }>(READ, { id: run.chargeId })
      .catch((error: unknown) => ({ data: { charge: null }, error }));
    if (read.data.charge?.status !== expected) {
      staleReads.push(`${run.chargeId}: gateway ${read.data.charge?.status}, Omise ${omise?.status}`);
    }
    if (run.outcome === 'paid' && run.afterPaid !== 'none') {
      if (run.afterPaid === 'void') voidsAsked++;
      else refundsAsked += 2;
      const refunds = await cluster.sim.call<{ data: { amount: number }[] }>(
        'GET',
        `/charges/${run.chargeId}/refunds?limit=100`,
      );
      const asked =
        run.afterPaid === 'void' ? [run.amount] : [Math.floor(run.amount / 4), Math.floor(run.amount / 5)];
      const atOmise = refunds.data.map((r) => r.amount).sort((a, b) => a - b);
      if (JSON.stringify(atOmise) !== JSON.stringify([...asked].sort((a, b) => a - b))) {
        refundMismatches.push(
          `${run.chargeId}: asked ${JSON.stringify(asked)}, Omise has ${JSON.stringify(atOmise)}`,
        );
      }
    }
  }

  const faultsInjected = await cluster.sim.call<Record<string, number>>('GET', '/_simulator/faults/stats');
  const deliveries = await cluster.sim.call<{
    data: { outcome: string; duplicate: boolean; attempt: number }[];
  }>('GET', '/_simulator/deliveries');
  const closeCodes: Record<string, number> = {};
  let reconnects = 0;
  let resubscribes = 0;
  for (const run of runs) {
    if (!run.phone) continue;
    reconnects += run.phone.reconnects;
    resubscribes += run.phone.resubscribes;
    for (const code of run.phone.closeCodes) closeCodes[code] = (closeCodes[code] ?? 0) + 1;
  }
  delays.sort((a, b) => a - b);
  const pct = (p: number) => delays[Math.min(delays.length - 1, Math.floor((delays.length * p) / 100))] ?? 0;
  return {
    charges: runs.length,
    created: runs.filter((r) => r.chargeId).length,
    outcomes,
    refundsAsked,
    voidsAsked,
    faultsInjected,
    webhookDeliveries: {
      attempts: deliveries.data.filter((d) => d.outcome !== 'lost').length,
      lost: deliveries.data.filter((d) => d.outcome === 'lost').length,
      duplicated: deliveries.data.filter((d) => d.duplicate).length,
      failed: deliveries.data.filter((d) => d.outcome === 'failed').length,
    },
    disruptions,
    client: stats,
    phones: { reconnects, resubscribes, closeCodes },
    outcomesLost,
    duplicateCharges,
    refundMismatches,
    staleReads,
    outcomeDelayMs: { p50: pct(50), p99: pct(99), max: delays.at(-1) ?? 0 },
    lateOutcomes,
    failures,
    durationMs: Date.now() - started,
    usedDatabase: cluster.databaseUrl !== undefined,
  };
}
