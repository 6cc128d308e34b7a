import { describe, expect, it } from '@jest/globals';
import { runSoak } from './support/soak-run.js';

/**
 * The CI soak (30 s; `npm run soak -- --seconds 600` is the long one, docs/reliability.md): steady
 * queries, subscriptions and webhooks against a gateway process; no error, and no growth of RSS,
 * heap or event-loop delay beyond 10 % after the warm-up.
 */
describe('soak', () => {
  it('30 s of steady traffic: no error, no growth beyond 10 % after warm-up', async () => {
    const report = await runSoak({ seconds: 30, warmupSeconds: 10 });
    console.error(JSON.stringify(report));
    expect(report.problems).toEqual([]);
    expect(report.outcomesSeen).toBe(report.charges);
    expect(report.outcomesSeen).toBeGreaterThan(20);
  }, 120_000);
});
