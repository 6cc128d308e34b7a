/** `npm run simulator`: the Omise simulator alone (flags and env in docs/simulator.md). */
import pino from 'pino';
import { ConfigError } from '../config/config.js';
import { loadSimulatorCliConfig } from '../config/simulator-config.js';
import { startSimulator } from './index.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadSimulatorCliConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`simulator: invalid configuration:\n${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const logger = pino({ level: config.logLevel }, pino.destination(2));
  const simulator = await startSimulator({
    port: config.port,
    host: config.host,
    webhookUrls: config.webhookUrls,
    webhookSecret: config.webhookSecret,
    publicKey: config.publicKey,
    secretKey: config.secretKey,
    webhookRetry: { baseDelayMs: 1000 },
    logger,
  });
  const lines = [
    `Omise simulator listening on ${simulator.url}`,
    `  public key:     ${simulator.publicKey}${config.publicKey ? '' : ' (any pkey_test_… is accepted)'}`,
    `  secret key:     ${simulator.secretKey}${config.secretKey ? '' : ' (any skey_test_… is accepted)'}`,
    `  webhook secret: ${simulator.webhookSecret}`,
    `  webhook URLs:   ${config.webhookUrls.length ? config.webhookUrls.join(', ') : '(none)'}`,
    '',
    'Try:',
    `  curl ${simulator.url}/charges -u ${simulator.secretKey}: \\`,
    '    -d "amount=400000" -d "currency=THB" -d "source[type]=truemoney_qr"',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'simulator: shutting down');
    simulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error('simulator: failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
