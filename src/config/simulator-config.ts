import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ConfigError, LOG_LEVELS, type LogLevel } from './config.js';

/** Settings of `npm run simulator`: flags win over environment variables (docs/simulator.md). */
export interface SimulatorCliConfig {
  port: number;
  host: string;
  webhookUrls: string[];
  /** base64; unset → generated at start and printed. */
  webhookSecret: string | undefined;
  /** Set → only this key is accepted; unset → any `pkey_test_…`. */
  publicKey: string | undefined;
  /** Set → only this key is accepted; unset → any `skey_test_…`. */
  secretKey: string | undefined;
  /**
   * pino level of the CLI's log (LOG_LEVEL).
   * @default 'info'
   */
  logLevel: LogLevel;
}

const schema = z.object({
  port: z.coerce.number().int().min(0).max(65535),
  host: z.string().min(1),
  webhookUrls: z.array(z.url({ protocol: /^https?$/ })),
  webhookSecret: z
    .string()
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64')
    .optional(),
  publicKey: z
    .string()
    .regex(/^pkey_test_[0-9a-z]+$/, 'must look like pkey_test_…')
    .optional(),
  secretKey: z
    .string()
    .regex(/^skey_test_[0-9a-z]+$/, 'must look like skey_test_…')
    .optional(),
  logLevel: z.enum(LOG_LEVELS),
});

const FLAG_TO_ENV: Record<string, string> = {
  port: '--port / SIMULATOR_PORT',
  host: '--host / SIMULATOR_HOST',
  webhookUrls: '--webhook-url / SIMULATOR_WEBHOOK_URL',
  webhookSecret: '--webhook-secret / SIMULATOR_WEBHOOK_SECRET',
  publicKey: '--public-key / SIMULATOR_PUBLIC_KEY',
  secretKey: '--secret-key / SIMULATOR_SECRET_KEY',
  logLevel: 'LOG_LEVEL',
};

export function loadSimulatorCliConfig(
  argv: string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): SimulatorCliConfig {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'webhook-url': { type: 'string', multiple: true },
        'webhook-secret': { type: 'string' },
        'public-key': { type: 'string' },
        'secret-key': { type: 'string' },
      },
      strict: true,
    }));
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const envUrls = (env.SIMULATOR_WEBHOOK_URL ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const raw = {
    port: values.port ?? env.SIMULATOR_PORT ?? '4010',
    host: values.host ?? env.SIMULATOR_HOST ?? '127.0.0.1',
    webhookUrls: (values['webhook-url'] as string[] | undefined) ?? envUrls,
    webhookSecret: values['webhook-secret'] ?? (env.SIMULATOR_WEBHOOK_SECRET || undefined),
    publicKey: values['public-key'] ?? (env.SIMULATOR_PUBLIC_KEY || undefined),
    secretKey: values['secret-key'] ?? (env.SIMULATOR_SECRET_KEY || undefined),
    logLevel: env.LOG_LEVEL || 'info',
  };
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues
        .map((issue) => `${FLAG_TO_ENV[String(issue.path[0])] ?? issue.path.join('.')}: ${issue.message}`)
        .join('\n'),
    );
  }
  const { webhookSecret, publicKey, secretKey, ...rest } = parsed.data;
  return { ...rest, webhookSecret, publicKey, secretKey };
}
