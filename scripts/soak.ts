/**
 * `npm run soak -- --seconds N [--warmup S] [--no-database] [--json FILE]`: steady queries,
 * subscriptions and webhooks against one gateway process (test/soak/support/soak-run.ts); samples its
 * RSS, heap and event-loop delay; exits 1 on growth beyond 10 % after warm-up or on any error.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runSoak } from '../test/soak/support/soak-run.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    warmup: { type: 'string' },
    'no-database': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const report = await runSoak({
  seconds,
  warmupSeconds: values.warmup !== undefined ? Number(values.warmup) : Math.min(60, Math.round(seconds / 3)),
  database: !values['no-database'],
  log: (line) => console.error(`[soak] ${line}`),
});
const text = JSON.stringify(report, null, 2);
console.log(text);
if (values.json) writeFileSync(values.json, text);
if (report.problems.length > 0) {
  console.error(`soak FAILED:\n${report.problems.join('\n')}`);
  process.exit(1);
}
console.error('soak passed');
process.exit(0);
