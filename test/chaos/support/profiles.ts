import type { ChaosReport } from './chaos-run.js';

/** Omise and webhook faults of the CI chaos suite and of `npm run chaos`. */
export const CI_FAULTS = {
  latencyMs: 20,
  errorRate: 0.05,
  rateLimitRate: 0.03,
  retryAfterSeconds: 1,
  dropRate: 0.03,
  webhookLossRate: 0.3,
  webhookDuplicateRate: 0.2,
  webhookDelayMs: 300,
  webhookReorderBatch: 4,
  webhookReorderMaxHoldMs: 500,
};

export const LARGE_RUN_FAULTS = { ...CI_FAULTS, latencyMs: 50 };

/** Everything the run must not show; empty when it passed. */
export function chaosProblems(report: ChaosReport): string[] {
  return [
    ...report.failures,
    ...(report.created !== report.charges
      ? [`only ${report.created}/${report.charges} charges created`]
      : []),
    ...report.outcomesLost.map((s) => `outcome lost: ${s}`),
    ...(report.duplicateCharges > 0 ? [`${report.duplicateCharges} duplicate charges at Omise`] : []),
    ...report.refundMismatches.map((s) => `refunds: ${s}`),
    ...report.staleReads.map((s) => `stale read: ${s}`),
    ...report.lateOutcomes.map((s) => `late outcome: ${s}`),
    ...Object.entries(report.client.serverErrors).map(
      ([status, n]) => `${n} answers ${status} without Retry-After`,
    ),
  ];
}
