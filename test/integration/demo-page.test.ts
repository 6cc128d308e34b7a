import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startHarness, type Harness } from './support/harness.js';

/** The routes of the reference checkout page and of the test-mode index, over real HTTP. */
describe('GET / and /demo in test mode', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness.close());

  it('GET / points a browser to the demo and the API explorer', async () => {
    const response = await harness.http('/');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await response.text();
    expect(html).toContain('href="/demo"');
    expect(html).toContain('href="/graphql"');
  });

  it('serves the page with a CSP that allows exactly its inline import map', async () => {
    const response = await harness.http('/demo');
    expect(response.status).toBe(200);
    const html = await response.text();
    const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1];
    expect(importMap).toBeDefined();
    const hash = createHash('sha256').update(importMap!).digest('base64');
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain(`script-src 'self' 'sha256-${hash}'`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('serves every file the page loads, graphql-ws from node_modules included', async () => {
    const html = await (await harness.http('/demo')).text();
    const importMap = JSON.parse(/<script type="importmap">([\s\S]*?)<\/script>/.exec(html)![1]!) as {
      imports: Record<string, string>;
    };
    const paths = [
      ...[...html.matchAll(/(?:src|href)="(\/demo\/[^"]+)"/g)].map(([, path]) => path!),
      ...Object.values(importMap.imports),
    ];
    expect(paths).toEqual(
      expect.arrayContaining([
        '/demo/checkout.css',
        '/demo/checkout.js',
        '/demo/payment-api.js',
        '/demo/vendor/graphql-ws/client.js',
      ]),
    );
    for (const path of paths) {
      const response = await harness.http(path);
      expect([path, response.status]).toEqual([path, 200]);
    }
    const client = await (await harness.http('/demo/vendor/graphql-ws/client.js')).text();
    expect(client).toContain('function createClient(');
    for (const [, chunk] of client.matchAll(/from '\.\/([\w.-]+\.js)'/g)) {
      const response = await harness.http(`/demo/vendor/graphql-ws/${chunk}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    }
  });

  it('tells the page it is in test mode and needs no credential', async () => {
    const response = await harness.http('/demo/config.json');
    expect(await response.json()).toEqual({ testMode: true, authRequired: false, graphqlPath: '/graphql' });
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await harness.http('/demo/checkout.js');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await harness.http('/demo/checkout.js', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it('still answers 404 to other paths', async () => {
    expect((await harness.http('/demo/../package.json')).status).toBe(404);
    expect((await harness.http('/demo/nothing.js')).status).toBe(404);
  });
});

describe('the demo page in production', () => {
  it('is off with NODE_ENV=production', async () => {
    const harness = await startHarness({ env: { NODE_ENV: 'production' } });
    try {
      expect((await harness.http('/')).status).toBe(404);
      expect((await harness.http('/demo')).status).toBe(404);
      expect((await harness.http('/demo/checkout.js')).status).toBe(404);
    } finally {
      await harness.close();
    }
  });

  it('is on with DEMO_ENABLED=true, and asks for an API key when auth is on', async () => {
    const keys = JSON.stringify([{ name: 'demo', key: 'd'.repeat(32), scopes: ['charges:create'] }]);
    const harness = await startHarness({
      env: { NODE_ENV: 'production', DEMO_ENABLED: 'true', GATEWAY_API_KEYS: keys },
    });
    try {
      expect((await harness.http('/demo')).status).toBe(200);
      const config = await (await harness.http('/demo/config.json')).json();
      expect(config).toEqual({ testMode: true, authRequired: true, graphqlPath: '/graphql' });
    } finally {
      await harness.close();
    }
  });
});
