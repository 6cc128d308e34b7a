import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OmiseClient } from '../../../src/omise/client.js';
import { OmiseError } from '../../../src/omise/errors.js';
import type { Charge } from '../../../src/payments/model.js';
import { ChargeReader } from '../../../src/payments/charge-reader.js';
import { mapCharge } from '../../../src/payments/omise-mapper.js';
import { ChargeStatusPublisher } from '../../../src/payments/status-feed/index.js';
import { MemoryKeyValueStore, MemoryPubSub } from '../../../src/realtime/index.js';
import type { KeyValueStore, PubSub } from '../../../src/realtime/ports.js';
import { startSimulator, type RunningSimulator } from '../../../src/simulator/index.js';
import { createOmiseWebhookHandler, type WebhookHandler } from '../../../src/webhooks/index.js';
import { FlakyPubSub, memoryLogger } from './helpers.js';

/** One request the receiver got, and what the handler answered. */
export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  status: number;
  body: Record<string, unknown>;
}

/**
 * A real HTTP server on port 0 that hands each POST to the webhook handler, as the gateway's server
 * does. `hold()` parks incoming requests until `release()`, so a test can change the world (faults)
 * between Omise sending a delivery and the handler processing it.
 */
export class WebhookReceiver extends EventEmitter {
  readonly received: ReceivedWebhook[] = [];
  private holding = false;
  private parked: Array<() => void> = [];
  private readonly server: Server;
  url = '';

  private constructor(handler: () => WebhookHandler) {
    super();
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const process = async () => {
          const rawBody = Buffer.concat(chunks);
          const answer = await handler()({ headers: req.headers, rawBody });
          res
            .writeHead(answer.status, { 'content-type': 'application/json' })
            .end(JSON.stringify(answer.body));
          const record = { headers: req.headers, rawBody, status: answer.status, body: answer.body };
          this.received.push(record);
          this.emit('answered', record);
        };
        if (this.holding) {
          this.parked.push(() => void process());
          this.emit('parked');
        } else void process();
      });
    });
  }

  static async start(handler: () => WebhookHandler): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(handler);
    receiver.server.listen(0, '127.0.0.1');
    await once(receiver.server, 'listening');
    const { port } = receiver.server.address() as AddressInfo;
    receiver.url = `http://127.0.0.1:${port}/webhooks/omise`;
    return receiver;
  }

  hold(): void {
    this.holding = true;
  }

  /** Resolves once `count` requests are parked. */
  async untilParked(count = 1): Promise<void> {
    while (this.parked.length < count) await once(this, 'parked');
  }

  release(): void {
    this.holding = false;
    for (const run of this.parked.splice(0)) run();
  }

  /** Resolves with the first answer (already given or coming) that matches. */
  async answered(match: (r: ReceivedWebhook) => boolean): Promise<ReceivedWebhook> {
    for (;;) {
      const found = this.received.find(match);
      if (found) return found;
      await once(this, 'answered');
    }
  }

  eventsOf(key: string): ReceivedWebhook[] {
    return this.received.filter((r) => JSON.parse(r.rawBody.toString()).key === key);
  }

  async close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Counts the HTTP requests a client really sends to Omise (the simulator). */
export function countingFetch(): { fetch: typeof globalThis.fetch; calls: () => string[] } {
  const calls: string[] = [];
  return {
    fetch: (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      calls.push(
        `${input instanceof Request ? input.method : (init?.method ?? 'GET')} ${new URL(url).pathname}`,
      );
      return globalThis.fetch(input, init);
    },
    calls: () => [...calls],
  };
}

/** Reads a charge the way the gateway does: through the real client and mapper; unknown → null. */
export function chargeLoader(omise: OmiseClient): (id: string) => Promise<Charge | null> {
  return async (id) => {
    try {
      return mapCharge(await omise.retrieveCharge(id));
    } catch (error) {
      if (error instanceof OmiseError && error.status === 404) return null;
      throw error;
    }
  };
}

export interface Harness {
  simulator: RunningSimulator;
  /** The gateway's client (one attempt per call, so failures show at once); its requests are counted. */
  omise: OmiseClient;
  omiseCalls: () => string[];
  /** A separate client for the test's own actions (create, mark paid) so they are not counted. */
  admin: OmiseClient;
  kv: MemoryKeyValueStore;
  memory: MemoryPubSub;
  pubsub: FlakyPubSub;
  publisher: ChargeStatusPublisher;
  handler: WebhookHandler;
  receiver: WebhookReceiver;
  logs: () => string;
  createCharge(amount?: number): Promise<string>;
  close(): Promise<void>;
}

/**
 * The real pieces wired as the gateway wires them: simulator → its signed webhook deliveries → a real
 * HTTP receiver → the handler → the real client re-fetches from the simulator → publisher → MemoryPubSub.
 */
export async function startHarness(
  options: { kv?: KeyValueStore; pubsub?: PubSub; webhooks?: boolean } = {},
): Promise<Harness> {
  const simulator = await startSimulator({
    webhookRetry: { baseDelayMs: 10, maxAttempts: 8, timeoutMs: 5_000 },
    faults: { webhooksEnabled: options.webhooks ?? true },
  });
  const counting = countingFetch();
  const omise = new OmiseClient({
    baseUrl: simulator.url,
    secretKey: simulator.secretKey,
    maxAttempts: 1,
    timeoutMs: 5_000,
    fetch: counting.fetch,
  });
  const admin = new OmiseClient({ baseUrl: simulator.url, secretKey: simulator.secretKey, maxAttempts: 1 });
  const kv = new MemoryKeyValueStore();
  const memory = new MemoryPubSub();
  const pubsub = new FlakyPubSub(options.pubsub ?? memory);
  const { logger, text } = memoryLogger();
  const publisher = new ChargeStatusPublisher({ pubsub, kv: options.kv ?? kv, logger });
  const handler = createOmiseWebhookHandler({
    charges: new ChargeReader({ omise, kv: options.kv ?? kv }),
    kv: options.kv ?? kv,
    publisher,
    webhookSecret: simulator.webhookSecret,
    logger,
    dedupTtlMs: 60_000,
  });
  const receiver = await WebhookReceiver.start(() => handler);
  simulator.setWebhookUrls([receiver.url]);
  return {
    simulator,
    omise,
    omiseCalls: counting.calls,
    admin,
    kv,
    memory,
    pubsub,
    publisher,
    handler,
    receiver,
    logs: text,
    async createCharge(amount = 25_000) {
      const charge = await admin.createCharge({ amount, currency: 'THB', source: { type: 'truemoney_qr' } });
      // Let the charge.create delivery finish so that each test starts from a quiet state.
      await simulator.waitForIdle(10_000);
      return charge.id;
    },
    async close() {
      await simulator.close();
      await receiver.close();
      await memory.close();
      kv.close();
    },
  };
}
