/**
 * `npm run watch-charge -- <chargeId> [graphql-url]`: prints each status of a charge from the
 * `chargeStatus` subscription (graphql-ws over WebSocket) until its outcome. The URL defaults to
 * GATEWAY_URL or http://localhost:4000/graphql; GATEWAY_TOKEN, when set, is sent as the credential.
 */
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [chargeId, url = process.env.GATEWAY_URL ?? 'http://localhost:4000/graphql'] = process.argv.slice(2);
if (!chargeId) {
  console.error('usage: npm run watch-charge -- <chargeId> [http://host:port/graphql]');
  process.exit(2);
}

const client = createClient({
  url: url.replace(/^http/, 'ws'),
  webSocketImpl: WebSocket,
  ...(process.env.GATEWAY_TOKEN && {
    connectionParams: { authorization: `Bearer ${process.env.GATEWAY_TOKEN}` },
  }),
  retryAttempts: 5,
});

const query = `subscription Watch($chargeId: ID!) {
  chargeStatus(chargeId: $chargeId) { status terminal occurredAt charge { amount paid failureCode } }
}`;

let failed = false;
try {
  for await (const result of client.iterate({ query, variables: { chargeId } })) {
    if (result.errors) {
      failed = true;
      console.error(JSON.stringify(result.errors));
      continue;
    }
    const event = (result.data as { chargeStatus: Record<string, unknown> }).chargeStatus;
    console.log(JSON.stringify({ chargeId, ...event }));
  }
} catch (error) {
  failed = true;
  console.error('subscription failed:', error instanceof Error ? error.message : JSON.stringify(error));
} finally {
  await client.dispose();
}
process.exit(failed ? 1 : 0);
