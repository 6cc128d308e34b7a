/** The results as a markdown report (stdout and bench/results/latest.md) and JSON (latest.json). */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { BurstReport, VisibilityReport } from './burst.js';
import type { FanOutTrial, SubscriptionMemory } from './subscriptions.js';

export interface ScenarioRow {
  /** 1, 2, ... as in docs/benchmarks.md; letters for variants (5b). */
  number: string;
  name: string;
  title: string;
  /** Name of the scenario this one is compared with (in the same run). */
  baseline?: string;
  reqPerSec?: number;
  p50Ms?: number;
  p99Ms?: number;
  requests?: number;
  seconds?: number;
  /** reqPerSec / baseline's reqPerSec. */
  ratio?: number;
  omiseCallsPerRequest?: number;
  /** Omise calls / requests over the measured rounds (under load). */
  omiseCallsPerRequestUnderLoad?: number;
  failures?: number;
  failureDetail?: string;
  /** req/s of each interleaved round (their spread shows the noise). */
  roundReqPerSec?: number[];
  /** The ratio in each round. */
  roundRatios?: number[];
  /** CPU time of the servers' process per request (median of the rounds), microseconds. */
  targetCpuUsPerRequest?: number;
  /** targetCpuUsPerRequest / the baseline's. */
  cpuRatio?: number;
  /** Set when the scenario did not run; says why. */
  skipped?: string;
}

export interface FanOutSummary {
  subscribers: number;
  trials: FanOutTrial[];
}

export interface FanOutReport {
  skipped?: string;
  memory?: SubscriptionMemory;
  single?: FanOutSummary;
  many?: FanOutSummary;
  /** median last-arrival time with N subscribers / with 1. */
  ratio?: number;
}

export interface RunMeta {
  date: string;
  /** The code measured: commit, and whether src/ or bench/ had uncommitted changes. */
  source: string;
  node: string;
  platform: string;
  cpus: number;
  cpuModel: string;
  totalMemoryGiB: number;
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  writeRequests: number;
  rounds: number;
  totalSeconds: number;
}

export function machineMeta(): Pick<
  RunMeta,
  'node' | 'platform' | 'cpus' | 'cpuModel' | 'totalMemoryGiB' | 'loadAverageAtStart'
> {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: loadAverage(),
  };
}

/** Which code ran: `git` in the working directory, else BENCH_SOURCE (e.g. an exported tree). */
export function sourceDescription(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: 'pipe',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bench'], {
      encoding: 'utf8',
      stdio: 'pipe',
    }).trim();
    return dirty ? `${commit} with uncommitted changes in src/ or bench/` : commit;
  } catch {
    return process.env.BENCH_SOURCE ?? 'unknown';
  }
}

export function loadAverage(): number[] {
  return os.loadavg().map((v) => Math.round(v * 100) / 100);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

const int = (v: number | undefined) => (v === undefined ? '' : Math.round(v).toLocaleString('en-US'));
const ms = (v: number | undefined) =>
  v === undefined ? '' : v < 10 ? v.toFixed(1) : Math.round(v).toString();
const ratio = (v: number | undefined) => (v === undefined ? '' : `${v < 0.1 ? v.toFixed(3) : v.toFixed(2)}×`);
const ratioNumber = (v: number | undefined) => (v === undefined ? '' : v < 0.1 ? v.toFixed(3) : v.toFixed(2));
/** min–max of per-round values. */
const range = (values: number[] | undefined, format: (v: number) => string) =>
  values && values.length > 1 ? `${format(Math.min(...values))}–${format(Math.max(...values))}` : '';
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)}`;

/** Omise calls per request: on sequential probes, and under load when counted (`probes / load`). */
function omiseCalls(row: ScenarioRow): string {
  const probes = row.omiseCallsPerRequest === undefined ? '' : row.omiseCallsPerRequest.toFixed(2);
  const load = row.omiseCallsPerRequestUnderLoad;
  return load === undefined ? probes : `${probes} / ${load.toFixed(4)}`;
}

export function renderMarkdown(
  meta: RunMeta,
  rows: ScenarioRow[],
  fanOut: FanOutReport | undefined,
  burst?: BurstReport | { skipped: string },
  visibility?: VisibilityReport | { skipped: string },
): string {
  const lines = [
    '# Benchmark results',
    '',
    `- Date: ${meta.date}`,
    `- Code: ${meta.source}`,
    `- Machine: ${meta.cpus} cores (${meta.cpuModel}), ${meta.totalMemoryGiB} GiB, ${meta.platform}; Node ${meta.node}`,
    `- Load average (1/5/15 min) at start ${meta.loadAverageAtStart.join(' / ')}, at end ${meta.loadAverageAtEnd.join(' / ')}`,
    '- Other processes may have been running on this machine during the run (it is shared): compare the ratios,',
    '  which are measured in the same run, rather than absolute numbers across runs.',
    `- Settings: ${meta.connections} connections, ${meta.durationSeconds} s per read scenario after a ${meta.warmupSeconds} s warm-up; ` +
      `${meta.writeRequests} requests per write scenario; ${meta.rounds} interleaved rounds; whole run ${Math.round(meta.totalSeconds)} s`,
    '',
    '| # | scenario | req/s | rounds req/s | p50 ms | p99 ms | ratio | rounds ratio | vs | server CPU µs/req | CPU ratio | Omise calls/req | requests | failures |',
    '|---|---|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|',
  ];
  for (const row of rows) {
    if (row.skipped) {
      lines.push(`| ${row.number} | ${row.name} | skipped: ${row.skipped} | | | | | | | | | | | |`);
      continue;
    }
    lines.push(
      `| ${row.number} | ${row.name} | ${int(row.reqPerSec)} | ${range(row.roundReqPerSec, int)} | ` +
        `${ms(row.p50Ms)} | ${ms(row.p99Ms)} | ${ratio(row.ratio)} | ${range(row.roundRatios, ratioNumber)} | ` +
        `${row.baseline ?? ''} | ${int(row.targetCpuUsPerRequest)} | ${ratio(row.cpuRatio)} | ${omiseCalls(row)} | ` +
        `${int(row.requests)} | ${row.failures ? `${row.failures} (${row.failureDetail})` : '0'} |`,
    );
  }
  lines.push('', 'Scenarios:', '');
  for (const row of rows) lines.push(`- **${row.name}**: ${row.title}`);

  if (fanOut) {
    lines.push('', '## chargeStatus fan-out', '');
    if (fanOut.skipped || !fanOut.single || !fanOut.many) {
      lines.push(`Skipped: ${fanOut.skipped ?? 'no result'}`);
    } else {
      lines.push(
        '| subscribers | trials | open all (ms) | Omise calls to open | simulateChargeOutcome round trip (ms) | first SUCCESSFUL (ms) | last SUCCESSFUL (ms) |',
        '|--:|--:|--:|--:|--:|--:|--:|',
      );
      for (const summary of [fanOut.single, fanOut.many]) {
        const t = summary.trials;
        const m = (pick: (x: FanOutTrial) => number) => median(t.map(pick));
        lines.push(
          `| ${summary.subscribers} | ${t.length} | ${ms(m((x) => x.subscribeMs))} | ${int(m((x) => x.omiseCallsToSubscribe))} | ` +
            `${ms(m((x) => x.mutationMs))} | ` +
            `${ms(m((x) => x.firstMs))} | ${ms(m((x) => x.lastMs))} |`,
        );
      }
      lines.push(
        '',
        `Medians of the trials. Ratio of the last arrival, ${fanOut.many.subscribers} subscribers vs 1: ${ratio(fanOut.ratio)}. ` +
          'Times start when simulateChargeOutcome is sent: they include the simulator marking the charge paid, ' +
          'its webhook to the gateway, the gateway re-fetching the charge and publishing it.',
      );
    }
    const mem = fanOut.memory;
    if (mem) {
      const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
      lines.push(
        '',
        `Memory of the gateway's process with ${mem.subscribers} chargeStatus subscriptions open (one WebSocket each, after GC): ` +
          `RSS ${mib(mem.before.rss)} → ${mib(mem.during.rss)} MiB, **${kib(mem.rssPerSubscriptionBytes)} KiB per subscription**; ` +
          `V8 heap used ${mib(mem.before.heapUsed)} → ${mib(mem.during.heapUsed)} MiB, ${kib(mem.heapPerSubscriptionBytes)} KiB per subscription.`,
      );
    }
  }
  if (burst) {
    lines.push('', '## Burst: many chargeStatus sockets, many outcomes at once', '');
    if ('skipped' in burst) lines.push(`Skipped: ${burst.skipped}`);
    else {
      lines.push(
        '| sockets | charges | opened at (/s) | registered | failed | open all (ms) | Omise calls to register | server CPU to register (ms) | RSS KiB / subscriber | delivered | Omise calls for the burst | server CPU for the burst (ms) | simulator CPU for the burst (ms) | p50 ms | p99 ms | max ms |',
        '|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
        `| ${burst.sockets} | ${burst.charges} | ${int(burst.openPerSecond)} | ${burst.registered} | ${burst.failed} | ${ms(burst.openMs)} | ` +
          `${burst.omiseCallsToRegister} | ${ms(burst.cpuToRegisterMs)} | ${kib(burst.rssPerSubscriberBytes)} | ${burst.delivered} | ${burst.omiseCallsForBurst} | ${ms(burst.cpuForBurstMs)} | ${ms(burst.simulatorCpuForBurstMs)} | ` +
          `${ms(burst.p50Ms)} | ${ms(burst.p99Ms)} | ${ms(burst.maxMs)} |`,
        '',
        'The Omise simulator runs in a process of its own for this scenario (as in production, its work is ' +
          "Omise's): a gateway with memory stores in the servers' process talks to it over loopback as to an " +
          'external Omise and receives its signed webhooks. "Server" figures (CPU, RSS) are that process\'s, ' +
          "the gateway's; the simulator's CPU is shown apart. Each socket subscribes to one of the charges " +
          '(round robin); the times start when all the charges are paid at the simulator at once and include ' +
          'its webhooks to the gateway, the re-fetch of each charge and the fan-out.',
      );
    }
  }
  if (visibility) {
    lines.push('', '## A change at Omise, visible on every instance', '');
    if ('skipped' in visibility) lines.push(`Skipped: ${visibility.skipped}`);
    else {
      lines.push(
        `Two gateway instances on one Redis; a pending charge read on both, then paid at the simulator (webhook to the first). ` +
          `Time until \`charge(id)\` answers SUCCESSFUL on both, polled every 5 ms, over ${visibility.trials} trials: ` +
          `**p50 ${ms(visibility.p50Ms)} ms, max ${ms(visibility.maxMs)} ms** (each: ${visibility.bothMs.map((v) => v.toFixed(0)).join(', ')}).`,
      );
    }
  }
  return lines.join('\n') + '\n';
}
