/**
 * The Omise simulator in a process of its own (forked by bench/run.ts for the burst scenario), so that
 * its work (serving the gateway's calls, signing and sending webhooks) is not counted as the gateway's:
 * in production that work is Omise's. Tells the parent its URL and keys over IPC, points its webhooks
 * where the parent says, reports its CPU, and serves until the parent goes.
 */
import { createLogger } from '../src/server/logger.js';
import { startSimulator } from '../src/simulator/index.js';
import type { SimulatorCommand, SimulatorMessage } from './protocol.js';

const send = (message: SimulatorMessage) => process.send?.(message);

startSimulator({ logger: createLogger({ level: 'silent' }) }).then(
  (sim) => {
    process.on('message', (message: SimulatorCommand) => {
      if (message.cmd === 'webhooks') {
        sim.setWebhookUrls(message.urls);
        send({ id: message.id, ok: true });
      } else if (message.cmd === 'cpu') {
        const { user, system } = process.cpuUsage();
        send({ id: message.id, ok: true, value: user + system });
      }
    });
    process.on('disconnect', () => {
      void sim.close().finally(() => process.exit(0));
    });
    send({
      type: 'ready',
      info: {
        url: sim.url,
        secretKey: sim.secretKey,
        publicKey: sim.publicKey,
        webhookSecret: sim.webhookSecret,
      },
    });
  },
  (error: unknown) => {
    send({ type: 'failed', error: String(error) });
    process.exit(1);
  },
);
