/**
 * `npm run chaos -- --charges N [--concurrency C] [--reconcile S] [--no-database] [--json FILE]
 * [--no-kill] [--no-redis-restart] [--no-rolling-restart] [--faults JSON] [--log-dir D] [--log-level L]`: a large
 * chaos run (test/chaos/support/chaos-run.ts) with every disruption; prints the report and exits 1 if
 * any outcome was lost, any charge or refund duplicated, or anything else failed.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runChaos } from '../test/chaos/support/chaos-run.js';
import { chaosProblems, LARGE_RUN_FAULTS } from '../test/chaos/support/profiles.js';

const { values } = parseArgs({
  options: {
    charges: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '40' },
    reconcile: { type: 'string', default: '5' },
    'no-database': { type: 'boolean', default: false },
    json: { type: 'string' },
    'log-dir': { type: 'string' },
    'log-level': { type: 'string', default: 'warn' },
    /** JSON merged over the fault profile, e.g. '{"webhookLossRate":1}'. */
    faults: { type: 'string' },
    'no-kill': { type: 'boolean', default: false },
    'no-redis-restart': { type: 'boolean', default: false },
    'no-rolling-restart': { type: 'boolean', default: false },
  },
});
const charges = Number(values.charges);
const report = await runChaos({
  charges,
  concurrency: Number(values.concurrency),
  reconcileIntervalSeconds: Number(values.reconcile),
  faults: { ...LARGE_RUN_FAULTS, ...(values.faults ? (JSON.parse(values.faults) as object) : {}) },
  flipDropEveryMs: 2_000,
  ...(!values['no-kill'] && { kill: { at: 0.3, downMs: 2_000, withMutationsInFlight: true } }),
  ...(!values['no-redis-restart'] && { redisRestart: { at: 0.55, downMs: 1_500 } }),
  ...(!values['no-rolling-restart'] && { rollingRestart: { at: 0.75 } }),
  // Generous: a create caught in flight by the SIGKILL is reconciled only once its attempt is stale.
  deadlineMs: Math.max(600_000, charges * 2_000),
  database: !values['no-database'],
  logLevel: values['log-level'],
  ...(values['log-dir'] !== undefined && { logDir: values['log-dir'] }),
  log: (line) => console.error(`[chaos] ${new Date().toISOString()} ${line}`),
});
const text = JSON.stringify(report, null, 2);
console.log(text);
if (values.json) writeFileSync(values.json, text);
const problems = chaosProblems(report);
if (problems.length > 0) {
  console.error(`chaos run FAILED:\n${problems.join('\n')}`);
  process.exit(1);
}
console.error('chaos run passed');
process.exit(0);
