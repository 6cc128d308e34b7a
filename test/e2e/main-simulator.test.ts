import { describe, expect, it } from '@jest/globals';
import { CreateTrueMoneyChargeDocument, SimulateChargeOutcomeDocument } from '../generated/operations.js';
import { subscribeToChargeStatus } from '../integration/support/ws-client.js';
import { startNode } from './support/processes.js';
import { print } from 'graphql';

/**
 * `npm start` with no Omise keys, as a real process: the embedded simulator's signed webhooks reach
 * the gateway and are verified with the simulator's generated secret, end to end.
 */
describe('src/main.ts in simulator mode', () => {
  it('delivers the outcome to a subscriber through a verified webhook; SIGINT exits 0', async () => {
    const main = startNode('main', 'src/main.ts', [], {
      PORT: '0',
      SIMULATOR_PORT: '0',
      LOG_LEVEL: 'info',
      // An hour: the outcome can only come from the webhook.
      RECONCILE_INTERVAL_SECONDS: '3600',
    });
    try {
      const [, url] = await main.waitFor(/GraphQL gateway:\s+(\S+)\n/);
      const [, simUrl] = await main.waitFor(/Omise simulator:\s+(\S+)/);
      const [, secretKey] = await main.waitFor(/test keys:\s+\S+\s+(skey_test_\w+)/);
      expect(main.stdout()).toMatch(/Webhooks:.*signatures verified/);
      const gql = async (document: Parameters<typeof print>[0], variables: unknown) => {
        const response = await fetch(url!, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: print(document), variables }),
        });
        return (await response.json()) as { data: Record<string, { charge: { id: string } }> };
      };

      const created = await gql(CreateTrueMoneyChargeDocument, { input: { amount: 10_000 } });
      const chargeId = created.data.createTrueMoneyCharge!.charge.id;
      const sub = subscribeToChargeStatus(url!, chargeId);
      try {
        await sub.received(1);
        await gql(SimulateChargeOutcomeDocument, { input: { chargeId, outcome: 'SUCCESSFUL' } });
        expect(await sub.ended).toBe('complete');
        expect(sub.events.map((e) => e.status)).toEqual(['PENDING', 'SUCCESSFUL']);
      } finally {
        await sub.close();
      }
      const deliveries = (await (
        await fetch(`${simUrl}/_simulator/deliveries`, {
          headers: { authorization: `Basic ${Buffer.from(`${secretKey}:`).toString('base64')}` },
        })
      ).json()) as { data: { eventKey: string; status: number | null }[] };
      const complete = deliveries.data.filter((d) => d.eventKey === 'charge.complete');
      expect(complete.map((d) => d.status)).toContain(200);
      expect(main.logs().some((l) => l.msg === 'webhook refused: invalid signature')).toBe(false);
      expect(main.logs().some((l) => l.msg === 'webhook processed' && l.chargeId === chargeId)).toBe(true);
    } finally {
      main.child.kill('SIGINT');
    }
    expect(await main.exited).toBe(0);
  });
});
