import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { generate, loadCodegenConfig } from '@graphql-codegen/cli';
import type { CodegenPlugin } from '@graphql-codegen/plugin-helpers';
import { buildGatewaySchema, printGatewaySchema } from '../../src/graphql/schema.js';

const CODEGEN_PLUGINS = [
  '@graphql-codegen/add',
  '@graphql-codegen/typescript-operations',
  '@graphql-codegen/typed-document-node',
];
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('committed schema and generated operations', () => {
  it('schema.graphql is what the type-graphql classes build (else run `npm run schema`)', async () => {
    const built = printGatewaySchema(await buildGatewaySchema());
    const committed = await readFile(`${root}/schema.graphql`, 'utf8');
    if (committed !== built) {
      throw new Error(
        'schema.graphql is stale: run `npm run schema && npm run codegen` and commit the result',
      );
    }
    expect(committed).toBe(built);
  });

  it('test/generated/ is what codegen makes of schema.graphql and test/operations (else run `npm run codegen`)', async () => {
    const { config } = await loadCodegenConfig({ configFilePath: `${root}/codegen.yml` });
    // Plugins loaded with import(), one at a time: under jest, codegen's require() cannot load their ESM
    // dependencies, and concurrent imports of shared modules race in jest's module registry.
    const loaded = new Map<string, unknown>();
    for (const name of CODEGEN_PLUGINS) loaded.set(name, await import(name));
    const pluginLoader = async (name: string) => (loaded.get(name) ?? (await import(name))) as CodegenPlugin;
    const outputs = (await generate({ ...config, cwd: root, silent: true, pluginLoader }, false)) as {
      filename: string;
      content: string;
    }[];
    expect(outputs.length).toBeGreaterThan(0);
    for (const { filename, content } of outputs) {
      const committed = await readFile(`${root}/${filename}`, 'utf8').catch(() => '');
      if (committed !== content) {
        throw new Error(`${filename} is stale: run \`npm run codegen\` and commit the result`);
      }
    }
  });

  it('has the contract names', async () => {
    const schema = await buildGatewaySchema();
    const query = schema.getQueryType()?.getFields() ?? {};
    const mutation = schema.getMutationType()?.getFields() ?? {};
    expect(Object.keys(query).sort()).toEqual(['charge', 'charges']);
    expect(Object.keys(mutation).sort()).toEqual([
      'createTrueMoneyCharge',
      'refundCharge',
      'simulateChargeOutcome',
      'voidCharge',
    ]);
    expect(String(query.charges?.args.find((a) => a.name === 'first')?.defaultValue)).toBe('20');
  });
});
