/**
 * Two scenarios about how fast an outcome reaches people:
 * - burst: N chargeStatus sockets (raw graphql-transport-ws over `ws`, one socket each, like N phones)
 *   opened at a steady rate and spread over C pending charges; then all C charges are paid at the
 *   simulator at once (its webhooks reach the gateway) and the clock runs until every socket got
 *   SUCCESSFUL. Reports how many registered, RSS per subscriber, and arrival percentiles.
 * - visibility: a charge is paid at the simulator (webhook to instance A) while `charge(id)` is polled on
 *   two gateway instances sharing Redis; the time until both answer SUCCESSFUL.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { CHARGE_QUERY, CHARGE_STATUS_SUBSCRIPTION, createCharge, postGraphQL } from './operations.js';
import type { MemorySample } from './protocol.js';

export interface BurstDeps {
  gatewayUrl: string;
  simulatorUrl: string;
  simulatorSecretKey: string;
  memory(): Promise<MemorySample>;
  omiseCalls(): Promise<number>;
  /** CPU time the gateway's process has used so far, µs (less sensitive to neighbours than wall time). */
  cpu(): Promise<number>;
  /** CPU time the simulator's own process has used so far, µs (Omise's work, not the gateway's). */
  simulatorCpu(): Promise<number>;
}

export interface BurstOptions {
  sockets: number;
  charges: number;
  openPerSecond: number;
  timeoutMs: number;
}

export interface BurstReport {
  sockets: number;
  charges: number;
  openPerSecond: number;
  /** Sockets whose subscription delivered its first (current-state) event. */
  registered: number;
  /** Sockets that failed (closed, error) before registering. */
  failed: number;
  /** From the first socket opened until the last registration. */
  openMs: number;
  /** Omise calls while the subscriptions registered (each charge's first state). */
  omiseCallsToRegister: number;
  /** CPU of the gateway's process while the sockets opened and registered, ms. */
  cpuToRegisterMs: number;
  rssPerSubscriberBytes: number;
  /** Sockets that got SUCCESSFUL within the timeout. */
  delivered: number;
  /** Omise calls from the burst until the last delivery (webhooks re-fetch each charge). */
  omiseCallsForBurst: number;
  /** CPU of the gateway's process from the payments until the last delivery, ms. */
  cpuForBurstMs: number;
  /** CPU of the simulator's process over the same time (mark_as_paid, webhooks, the re-fetches), ms. */
  simulatorCpuForBurstMs: number;
  /** Arrival times after the burst started (all charges paid at once), ms. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

interface Socket {
  ws: WebSocket;
  state: { registered?: boolean };
  registered: Promise<boolean>;
  successAt: Promise<number | undefined>;
}

function open(wsUrl: string, chargeId: string, timeoutMs: number): Socket {
  const ws = new WebSocket(wsUrl, 'graphql-transport-ws');
  let registered!: (ok: boolean) => void;
  let success!: (at: number | undefined) => void;
  const state: Socket['state'] = {};
  const registeredP = new Promise<boolean>((resolve) => (registered = resolve));
  void registeredP.then((ok) => (state.registered = ok));
  const successP = new Promise<number | undefined>((resolve) => (success = resolve));
  const timer = setTimeout(() => success(undefined), timeoutMs);
  timer.unref();
  ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: {} })));
  ws.on('message', (raw: Buffer) => {
    const message = JSON.parse(raw.toString()) as {
      type: string;
      payload?: { data?: { chargeStatus?: { status: string } } };
    };
    if (message.type === 'connection_ack') {
      ws.send(
        JSON.stringify({
          id: '1',
          type: 'subscribe',
          payload: { query: CHARGE_STATUS_SUBSCRIPTION, variables: { chargeId } },
        }),
      );
    } else if (message.type === 'next') {
      registered(true);
      if (message.payload?.data?.chargeStatus?.status === 'SUCCESSFUL') success(performance.now());
    } else if (message.type === 'error') {
      registered(false);
    }
  });
  const fail = () => {
    registered(false);
    success(undefined);
  };
  ws.on('error', fail);
  ws.on('close', fail);
  return { ws, state, registered: registeredP, successAt: successP };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Pays a charge at the simulator directly (as the customer's app would), which sends its webhook. */
async function markPaid(
  simulator: { simulatorUrl: string; simulatorSecretKey: string },
  chargeId: string,
): Promise<void> {
  const response = await fetch(`${simulator.simulatorUrl}/charges/${chargeId}/mark_as_paid`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${simulator.simulatorSecretKey}:`).toString('base64')}` },
  });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`mark_as_paid ${chargeId}: HTTP ${response.status}`);
}

export async function burst(deps: BurstDeps, options: BurstOptions): Promise<BurstReport> {
  const wsUrl = deps.gatewayUrl.replace(/^http/, 'ws');
  const chargeIds: string[] = [];
  for (let i = 0; i < options.charges; i++) chargeIds.push(await createCharge(deps.gatewayUrl, 20_000 + i));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const before = await deps.memory();
  const callsBefore = await deps.omiseCalls();
  const cpuBefore = await deps.cpu();
  const sockets: Socket[] = [];
  const batchMs = 20;
  const perBatch = Math.max(1, Math.round((options.openPerSecond * batchMs) / 1000));
  const started = performance.now();
  try {
    while (sockets.length < options.sockets) {
      const batchStart = performance.now();
      for (let i = 0; i < perBatch && sockets.length < options.sockets; i++) {
        sockets.push(open(wsUrl, chargeIds[sockets.length % chargeIds.length]!, options.timeoutMs * 4));
      }
      const wait = batchMs - (performance.now() - batchStart);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    await Promise.race([
      Promise.all(sockets.map((s) => s.registered)),
      new Promise((resolve) => setTimeout(resolve, options.timeoutMs)),
    ]);
    const openMs = performance.now() - started;
    // A socket still waiting when the time ran out is neither registered nor failed.
    const registered = sockets.filter((s) => s.state.registered === true).length;
    const failed = sockets.filter((s) => s.state.registered === false).length;
    const omiseCallsToRegister = (await deps.omiseCalls()) - callsBefore;
    const cpuToRegisterMs = ((await deps.cpu()) - cpuBefore) / 1000;
    const during = await deps.memory();

    const callsBeforeBurst = await deps.omiseCalls();
    const cpuBeforeBurst = await deps.cpu();
    const simulatorCpuBeforeBurst = await deps.simulatorCpu();
    const burstStart = performance.now();
    await Promise.all(chargeIds.map((id) => markPaid(deps, id)));
    const arrivals = await Promise.all(sockets.map((s) => s.successAt));
    const cpuForBurstMs = ((await deps.cpu()) - cpuBeforeBurst) / 1000;
    const simulatorCpuForBurstMs = ((await deps.simulatorCpu()) - simulatorCpuBeforeBurst) / 1000;
    const times = arrivals
      .filter((at): at is number => at !== undefined)
      .map((at) => at - burstStart)
      .sort((a, b) => a - b);
    return {
      sockets: options.sockets,
      charges: options.charges,
      openPerSecond: options.openPerSecond,
      registered,
      failed,
      openMs,
      omiseCallsToRegister,
      cpuToRegisterMs,
      rssPerSubscriberBytes: (during.rss - before.rss) / Math.max(1, registered),
      delivered: times.length,
      omiseCallsForBurst: (await deps.omiseCalls()) - callsBeforeBurst,
      cpuForBurstMs,
      simulatorCpuForBurstMs,
      p50Ms: percentile(times, 50),
      p99Ms: percentile(times, 99),
      maxMs: times.at(-1) ?? NaN,
    };
  } finally {
    for (const s of sockets) s.ws.terminate();
  }
}

export interface VisibilityDeps {
  /** Instance A (receives the webhooks) and B, on the same Redis. */
  urls: [string, string];
  simulatorUrl: string;
  simulatorSecretKey: string;
}

export interface VisibilityReport {
  trials: number;
  /** Per trial: time from mark_as_paid until both instances answered SUCCESSFUL, ms. */
  bothMs: number[];
  p50Ms: number;
  maxMs: number;
}

/** Polls `charge(id)` on one instance every `everyMs` until SUCCESSFUL; resolves the time it first was. */
async function untilSuccessful(url: string, chargeId: string, everyMs: number, deadline: number) {
  for (;;) {
    const { data } = await postGraphQL(url, CHARGE_QUERY, { id: chargeId });
    if ((data.charge as { status: string }).status === 'SUCCESSFUL') return performance.now();
    if (performance.now() > deadline) throw new Error(`${chargeId} not SUCCESSFUL on ${url} in time`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export async function visibility(deps: VisibilityDeps, trials: number): Promise<VisibilityReport> {
  const bothMs: number[] = [];
  for (let i = 0; i < trials; i++) {
    const chargeId = await createCharge(deps.urls[0], 30_000 + i);
    // Both instances hold the pending state (a checkout page is polling on each).
    await Promise.all(deps.urls.map((url) => postGraphQL(url, CHARGE_QUERY, { id: chargeId })));
    const start = performance.now();
    const deadline = start + 10_000;
    const [, a, b] = await Promise.all([
      markPaid(deps, chargeId),
      untilSuccessful(deps.urls[0], chargeId, 5, deadline),
      untilSuccessful(deps.urls[1], chargeId, 5, deadline),
    ]);
    bothMs.push(Math.max(a, b) - start);
  }
  const sorted = [...bothMs].sort((x, y) => x - y);
  return { trials, bothMs, p50Ms: percentile(sorted, 50), maxMs: sorted.at(-1) ?? NaN };
}
