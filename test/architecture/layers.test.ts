import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';

/**
 * The layer rules of eslint.config.js (docs/architecture.md, "Layers and rules") fire: each snippet is
 * linted as if it were a file at `path`, with the repository's own configuration.
 */
const eslint = new ESLint({ cwd: process.cwd() });

async function restrictedRulesFiredFor(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path });
  return (result?.messages ?? []).map((message) => message.ruleId ?? message.message);
}

const importOf = (from: string) => `import { x } from '${from}';\nexport const y = x;\n`;

describe('layer rules (npm run lint)', () => {
  it.each([
    ['src/payments/planted.ts', '../graphql/context.js'],
    ['src/payments/planted.ts', '../server/gateway.js'],
    ['src/payments/planted.ts', '../webhooks/index.js'],
    ['src/payments/status-feed/planted.ts', '../../graphql/context.js'],
    ['src/payments/status-feed/planted.ts', '../../server/http-server.js'],
    ['src/payments/planted.ts', 'node:http'],
    ['src/payments/planted.ts', '../omise/client.js'],
    ['src/omise/planted.ts', '../payments/omise-payments-service.js'],
    ['src/simulator/planted.ts', '../server/gateway.js'],
    ['src/simulator/planted.ts', '../omise/client.js'],
    ['src/realtime/planted.ts', '../payments/model.js'],
    ['src/config/planted.ts', '../omise/types.js'],
    ['src/graphql/planted.ts', '../omise/types.js'],
    ['src/webhooks/omise/planted.ts', '../../graphql/context.js'],
    ['src/payments/planted.ts', '../config/config.js'],
    ['src/payments/planted.ts', '../realtime/redis-pubsub.js'],
    ['src/payments/planted.ts', '../persistence/postgres/pool.js'],
    ['src/persistence/planted.ts', '../payments/model.js'],
  ])('%s may not import %s', async (path, from) => {
    expect(await restrictedRulesFiredFor(path, importOf(from))).toEqual(['no-restricted-imports']);
  });

  it.each([
    ['src/payments/planted.ts', '../omise/api.js'],
    ['src/payments/planted.ts', '../realtime/ports.js'],
    ['src/payments/planted.ts', '../persistence/ports.js'],
    ['src/payments/status-feed/planted.ts', '../model.js'],
    ['src/simulator/planted.ts', '../omise/webhook-signature.js'],
    ['src/webhooks/omise/planted.ts', '../../omise/types.js'],
    ['src/graphql/planted.ts', '../payments/payments-service.js'],
    ['src/server/planted.ts', '../payments/omise-payments-service.js'],
  ])('%s may import %s', async (path, from) => {
    expect(await restrictedRulesFiredFor(path, importOf(from))).toEqual([]);
  });

  it.each([
    ['src/payments/planted.ts', 'export const level = process.env.LOG_LEVEL;\n'],
    ['src/simulator/planted.ts', "export const level = process.env['LOG_LEVEL'];\n"],
    ['src/server/planted.ts', 'const { env } = process;\nexport const level = env.LOG_LEVEL;\n'],
  ])('%s may not read the environment', async (path, code) => {
    expect(await restrictedRulesFiredFor(path, code)).toEqual(['no-restricted-properties']);
  });

  it('src/graphql may not import env from node:process', async () => {
    expect(
      await restrictedRulesFiredFor(
        'src/graphql/planted.ts',
        importOf('node:process').replace('{ x }', '{ env as x }'),
      ),
    ).toEqual(['no-restricted-imports']);
  });

  it('src/config reads the environment', async () => {
    expect(
      await restrictedRulesFiredFor('src/config/planted.ts', 'export const level = process.env.LOG_LEVEL;\n'),
    ).toEqual([]);
  });
});
