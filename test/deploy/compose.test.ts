import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/config.js';
import { loadSimulatorCliConfig } from '../../src/config/simulator-config.js';

/**
 * compose.yaml and the Dockerfile, checked without a container engine (none runs here; docs/
 * operations.md): the services are wired to each other, and the environment compose gives each
 * process is accepted by that process's own configuration loader. `npm run image:check` replays the
 * Dockerfile itself and runs its result.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));

/** What an operator's .env would hold (compose.yaml's header shows how to make it). */
const DOT_ENV: Record<string, string> = {
  OMISE_SECRET_KEY: 'skey_test_0123456789abcdef01234567',
  OMISE_PUBLIC_KEY: 'pkey_test_0123456789abcdef01234567',
  OMISE_WEBHOOK_SECRET: Buffer.alloc(32, 7).toString('base64'),
  GATEWAY_TOKEN_SECRET: Buffer.alloc(48, 9).toString('base64'),
  POSTGRES_PASSWORD: 'c0ffee0123456789c0ffee0123456789',
  GATEWAY_API_KEY: 'Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFy',
};

/** compose's `${NAME}`, `${NAME:?message}` and `${NAME:-default}` interpolation. */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\{(\w+)(?::([?-])([^}]*))?\}/g, (_, name: string, kind?: string, rest?: string) => {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (kind === '-') return rest ?? '';
    throw new Error(`compose would refuse to start: ${name} unset (${rest ?? ''})`);
  });
}

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
}

const compose = parse(interpolate(readFileSync(`${root}/compose.yaml`, 'utf8'), DOT_ENV), {
  merge: true,
}) as { services: Record<string, Service> };
const services = compose.services;

describe('compose.yaml', () => {
  it('has two gateways, Redis, PostgreSQL and the simulator', () => {
    expect(Object.keys(services).sort()).toEqual([
      'gateway-a',
      'gateway-b',
      'postgres',
      'redis',
      'simulator',
    ]);
    expect(services['gateway-a']!.ports).toEqual(['4001:4000']);
    expect(services['gateway-b']!.ports).toEqual(['4002:4000']);
  });

  it('refuses to start without the secrets in .env', () => {
    const raw = readFileSync(`${root}/compose.yaml`, 'utf8');
    for (const name of Object.keys(DOT_ENV)) {
      const { [name]: _omitted, ...rest } = DOT_ENV;
      expect(() => interpolate(raw, rest)).toThrow(name);
    }
  });

  it.each(['gateway-a', 'gateway-b'])(
    '%s: its environment passes the gateway config and is wired',
    (name) => {
      const service = services[name]!;
      const env = service.environment!;
      const config = loadConfig(env);
      expect(config.omise.mode).toBe('test');
      expect(config.production).toBe(true);
      expect(config.apiKeys.map((k) => k.name)).toEqual(['shop']);
      expect(config.apiKeys[0]!.key).toBe(DOT_ENV['GATEWAY_API_KEY']);
      expect(config.redisUrl).toBe('redis://redis:6379');
      expect(config.demoPage).toBe(true);
      expect(env['DATABASE_URL']).toBe(
        `postgres://gateway:${DOT_ENV['POSTGRES_PASSWORD']}@postgres:5432/gateway`,
      );
      // The simulator is the Omise it talks to, with the same keys and webhook secret.
      const simulator = loadSimulatorCliConfig([], services['simulator']!.environment!);
      expect(config.omise.apiUrl).toBe(`http://simulator:${simulator.port}`);
      expect(simulator.secretKey).toBe(config.omise.secretKey);
      expect(simulator.publicKey).toBe(config.omise.publicKey);
      expect(simulator.webhookSecret).toBe(config.webhookSecret);
      expect(simulator.webhookUrls).toContain(`http://${name}:${config.port}/webhooks/omise`);
      expect(service.depends_on).toEqual({
        redis: { condition: 'service_healthy' },
        postgres: { condition: 'service_healthy' },
        simulator: { condition: 'service_started' },
      });
    },
  );

  it('PostgreSQL has the database and password the gateways use', () => {
    const env = services['postgres']!.environment!;
    const url = new URL(services['gateway-a']!.environment!['DATABASE_URL']!);
    expect([url.username, url.password, url.pathname]).toEqual([
      env['POSTGRES_USER'],
      env['POSTGRES_PASSWORD'],
      `/${env['POSTGRES_DB']}`,
    ]);
  });

  it('the simulator listens on every interface and runs the built CLI from the gateway image', () => {
    const simulator = services['simulator']!;
    expect(loadSimulatorCliConfig([], simulator.environment!).host).toBe('0.0.0.0');
    expect(simulator.command).toEqual(['node', 'dist/simulator.js']);
    expect(simulator.image).toBe(services['gateway-a']!.image);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(`${root}/Dockerfile`, 'utf8');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1)!;

  it('builds in stages from the lock file: dev dependencies to build, production ones to run', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/^RUN npm ci --no-audit --no-fund$/m);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev\b/m);
    expect(runtime).not.toMatch(/^RUN /m);
  });

  it('runs the built bundle as a non-root user, with a HEALTHCHECK on /healthz', () => {
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*\/healthz/m);
    expect(runtime).toMatch(/^CMD \["node", "dist\/main\.js"\]$/m);
    expect(runtime).toMatch(/^COPY web \.\/web$/m);
  });
});
