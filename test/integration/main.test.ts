import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** `npm start`'s entry point as a child process: banner, a real charge, clean exits. */

const root = fileURLToPath(new URL('../..', import.meta.url));

function startMain(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', 'src/main.ts'], {
    cwd: root,
    // A clean environment: nothing of the developer's OMISE_* settings leaks in.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => ({ stdout, stderr }),
    /** Resolves with the first match of `pattern` in stdout (rejects if the process exits first). */
    waitFor(pattern: RegExp): Promise<RegExpMatchArray> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = stdout.match(pattern);
          if (match) {
            child.stdout.off('data', check);
            resolve(match);
          }
        };
        child.stdout.on('data', check);
        void exited.then((code) => reject(new Error(`exited ${code}: ${stdout}\n${stderr}`)));
        check();
      });
    },
  };
}

describe('src/main.ts', () => {
  it('starts the simulator and the gateway, prints URLs, auth OFF and a curl example; SIGTERM exits 0', async () => {
    const main = startMain({ PORT: '0', SIMULATOR_PORT: '0' });
    try {
      const [, url] = await main.waitFor(/GraphQL gateway:\s+(\S+)\n/);
      const { stdout } = main.output();
      expect(stdout).toMatch(/Omise simulator:\s+http:\/\/127\.0\.0\.1:\d+/);
      expect(stdout).toMatch(/Auth:\s+OFF/);
      expect(stdout).toMatch(/!!! WARNING: AUTH IS OFF/);
      expect(stdout).toContain('curl -s');
      expect(stdout).toMatch(/webhooks to:\s+http:\/\/127\.0\.0\.1:\d+\/webhooks\/omise/);
      expect(stdout).not.toMatch(/webhooks to:\s+http:\/\/127\.0\.0\.1:0\//);
      expect(stdout).toMatch(
        /Metrics:\s+\S+\/metrics: open to anyone who reaches the port \(set METRICS_TOKEN\)/,
      );
      expect(stdout).toMatch(/Client IP:\s+the socket address \(TRUSTED_PROXIES unset\)/);
      expect(stdout).toMatch(/Rate limit:\s+600\/min per API key or IP, 120\/min per IP for client tokens/);
      // No database needed in test mode (issue 8): the records are kept in memory, and it says so.
      expect(stdout).toMatch(
        /Idempotency, ledger: in memory: lost on restart \(set DATABASE_URL to keep them\)/,
      );

      const response = await fetch(url!, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query:
            'mutation { createTrueMoneyCharge(input: {amount: 10000}) { charge { id status } userErrors { code } } }',
        }),
      });
      const body = (await response.json()) as {
        data: { createTrueMoneyCharge: { charge: { status: string } } };
      };
      expect(body.data.createTrueMoneyCharge.charge.status).toBe('PENDING');
    } finally {
      main.child.kill('SIGTERM');
    }
    expect(await main.exited).toBe(0);
  });

  it('with GATEWAY_API_KEYS: auth ON in the banner (names and scopes, never the key), credentials required', async () => {
    const key = `main-test-key-${'k'.repeat(24)}`;
    const main = startMain({
      PORT: '0',
      SIMULATOR_PORT: '0',
      GATEWAY_API_KEYS: JSON.stringify([{ name: 'shop', key, scopes: ['charges:read'] }]),
      METRICS_TOKEN: 'main-test-metrics-token-0123',
      TRUSTED_PROXIES: '10.0.0.0/8',
    });
    try {
      const [, url] = await main.waitFor(/GraphQL gateway:\s+(\S+)\n/);
      await main.waitFor(/Create a charge:[\s\S]*\n\n/);
      const { stdout } = main.output();
      expect(stdout).toMatch(/Auth:\s+ON/);
      expect(stdout).toMatch(/shop\s+\(charges:read\)/);
      expect(stdout).toMatch(/!!! WARNING: GATEWAY_TOKEN_SECRET is unset/);
      expect(stdout).not.toMatch(/AUTH IS OFF/);
      expect(stdout).toContain('authorization: Bearer');
      expect(stdout).toMatch(/Metrics:\s+\S+\/metrics: Bearer METRICS_TOKEN required/);
      expect(stdout).toMatch(/Client IP:\s+X-Forwarded-For from TRUSTED_PROXIES \(10\.0\.0\.0\/8\)/);
      expect(stdout).not.toContain('main-test-metrics-token-0123');
      const query = JSON.stringify({ query: '{ charges(first: 1) { totalCount } }' });
      const anonymous = await fetch(url!, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: query,
      });
      expect(anonymous.status).toBe(401);
      await anonymous.arrayBuffer();
      const allowed = await fetch(url!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: query,
      });
      expect(allowed.status).toBe(200);
      expect(await allowed.json()).toEqual({ data: { charges: { totalCount: expect.any(Number) } } });
    } finally {
      main.child.kill('SIGTERM');
    }
    expect(await main.exited).toBe(0);
    const { stdout, stderr } = main.output();
    expect(`${stdout}${stderr}`).not.toContain(key);
  });

  it('live keys without API keys and webhook secret: refuses to start, saying why', async () => {
    const main = startMain({ PORT: '0', OMISE_SECRET_KEY: 'skey_5mainlivekey0000000000' });
    expect(await main.exited).toBe(1);
    const { stderr } = main.output();
    expect(stderr).toMatch(/GATEWAY_API_KEYS/);
    expect(stderr).toMatch(/OMISE_WEBHOOK_SECRET/);
    expect(stderr).not.toContain('skey_5mainlivekey0000000000');
  });

  it('live keys without DATABASE_URL: refuses to start, naming it (issue 8)', async () => {
    const main = startMain({
      PORT: '0',
      OMISE_SECRET_KEY: 'skey_5mainlivekey0000000000',
      GATEWAY_API_KEYS: JSON.stringify([{ name: 'ops', key: 'k'.repeat(32), scopes: ['charges:read'] }]),
      OMISE_WEBHOOK_SECRET: Buffer.from('w'.repeat(32)).toString('base64'),
      GATEWAY_TOKEN_SECRET: 't'.repeat(32),
    });
    expect(await main.exited).toBe(1);
    const { stderr } = main.output();
    expect(stderr).toMatch(/DATABASE_URL: required with live Omise keys/);
    expect(stderr).not.toContain('skey_5mainlivekey0000000000');
  });

  it('IDEMPOTENCY_TTL_SECONDS below the attempt stale time: refuses to start, naming it', async () => {
    const main = startMain({ PORT: '0', SIMULATOR_PORT: '0', IDEMPOTENCY_TTL_SECONDS: '60' });
    expect(await main.exited).toBe(1);
    expect(main.output().stderr).toMatch(/IDEMPOTENCY_TTL_SECONDS: 60 is below the attempt stale time/);
  });

  it('a configuration error prints the message without a stack and exits 1', async () => {
    const main = startMain({ PORT: 'not-a-port' });
    expect(await main.exited).toBe(1);
    const { stderr } = main.output();
    expect(stderr).toContain('PORT');
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
