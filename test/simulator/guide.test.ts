/**
 * Runs the curl commands of Omise's TrueMoney QR guide (test/fixtures/truemoney-qr-guide.th.txt)
 * against the real CLI, changing only the host, and compares each answer's key set with the guide's
 * JSON example.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { keyPaths } from './helpers.js';

const run = promisify(execFile);
const guide = readFileSync(new URL('../fixtures/truemoney-qr-guide.th.txt', import.meta.url), 'utf8');
const paynowFixture = JSON.parse(
  readFileSync(new URL('../fixtures/omise/go/charge-paynow-qr-pending.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

interface GuideExample {
  curl: string[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/** Reads the JSON value starting at line `start` (balanced braces). */
function readJsonAt(lines: string[], start: number): unknown {
  let depth = 0;
  const taken: string[] = [];
  for (let i = start; i < lines.length; i += 1) {
    const line = lines[i] as string;
    taken.push(line);
    for (const ch of line) {
      if (ch === '{') depth += 1;
      if (ch === '}') depth -= 1;
    }
    if (depth === 0) break;
  }
  return JSON.parse(taken.join('\n'));
}

/** Every curl command with the JSON example that follows it (null when none does). */
function parseGuide(): { examples: GuideExample[]; standalone: unknown[] } {
  const lines = guide.split('\n');
  const examples: GuideExample[] = [];
  const standalone: unknown[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] as string;
    if (line.startsWith('curl ')) {
      const curl: string[] = [];
      let j = i;
      for (; j < lines.length; j += 1) {
        const part = (lines[j] as string).trim();
        curl.push(part.replace(/\\$/, '').trim());
        if (!part.endsWith('\\')) break;
      }
      let k = j + 1;
      while (k < lines.length && (lines[k] as string).trim() === '') k += 1;
      const json = (lines[k] as string).trim() === '{' ? readJsonAt(lines, k) : null;
      examples.push({ curl: curl.filter(Boolean), json });
      i = j;
    } else if (line === '{') {
      // A JSON block not preceded by a curl command (the scannable_code example).
      const previous = examples.at(-1);
      const value = readJsonAt(lines, i);
      if (!previous || previous.json === null || JSON.stringify(previous.json) !== JSON.stringify(value)) {
        standalone.push(value);
      }
      i += JSON.stringify(value, null, 2).split('\n').length - 1;
    }
  }
  return { examples, standalone };
}

/** Turns `curl URL -u KEY: -d "a=b"` into curl's argv, with the host and the $VARIABLES replaced. */
function curlArgs(parts: string[], baseUrl: string, vars: Record<string, string>): string[] {
  const substitute = (s: string) => s.replace(/\$([A-Z_]+)/g, (_m, name: string) => vars[name] ?? `$${name}`);
  const tokens = parts.flatMap((part) => part.match(/"[^"]*"|\S+/g) ?? []);
  expect(tokens[0]).toBe('curl');
  const args = tokens
    .slice(1)
    .map((token) => (token.startsWith('"') ? token.slice(1, -1) : token))
    .map((token) => substitute(token).replace('https://api.omise.co', baseUrl));
  return ['--silent', '--show-error', ...args];
}

let child: ChildProcess;
let baseUrl = '';
let publicKey = '';
let secretKey = '';

beforeAll(async () => {
  child = spawn(
    process.execPath,
    ['--import', '@swc-node/register/esm-register', 'src/simulator/cli.ts', '--port', '0'],
    { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' } },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`CLI exited early (${code}): ${output}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      const pkey = /public key:\s+(pkey_test_[0-9a-z]+)/.exec(output)?.[1];
      const skey = /secret key:\s+(skey_test_[0-9a-z]+)/.exec(output)?.[1];
      if (url && pkey && skey && output.includes('Try:')) {
        baseUrl = url;
        publicKey = pkey;
        secretKey = skey;
        child.removeAllListeners('exit');
        resolve();
      }
    });
  });
}, 60_000);

afterAll(async () => {
  if (child.exitCode !== null) return;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
});

describe('the TrueMoney QR guide, run against the CLI', () => {
  const { examples, standalone } = parseGuide();

  it('finds the guide examples', () => {
    expect(examples).toHaveLength(3);
    expect(examples[0]?.json?.object).toBe('source');
    expect(examples[1]?.json?.object).toBe('charge');
    expect(examples[2]?.json).toBeNull();
    expect(standalone).toHaveLength(1);
  });

  it('prints a port-0 URL with the real port', () => {
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(baseUrl.endsWith(':0')).toBe(false);
  });

  it('answers every curl command with exactly the key set of the guide', async () => {
    const vars: Record<string, string> = { OMISE_PUBLIC_KEY: publicKey, OMISE_SECRET_KEY: secretKey };
    const answers: Array<Record<string, unknown>> = [];
    for (const example of examples) {
      const { stdout } = await run('curl', curlArgs(example.curl, baseUrl, vars));
      const answer = JSON.parse(stdout) as Record<string, unknown>;
      answers.push(answer);
      expect(answer.object).not.toBe('error');
      if (answer.object === 'source') vars.SOURCE_ID = answer.id as string;
      // The last example (source + charge in one call) has no JSON of its own: it is a charge.
      const expected = example.json ?? examples[1]?.json;
      expect(keyPaths(answer)).toEqual(keyPaths(expected));
      expect(Object.keys(answer)).toEqual(Object.keys(expected));
    }
    const [source, charge, inline] = answers as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(charge?.source.id).toBe(source?.id);
    expect(charge?.return_uri).toBe('http://example.com/orders/345678/complete');
    expect(inline?.source.type).toBe('truemoney_qr');
    expect(charge?.source.scannable_code.image.download_uri.startsWith(`${baseUrl}/charges/`)).toBe(true);
    expect(keyPaths(charge?.source.scannable_code)).toEqual(keyPaths(standalone[0]));
    // The same values as the guide where they do not depend on time or ids.
    const guideCharge = examples[1]?.json;
    for (const key of [
      'amount',
      'currency',
      'status',
      'transaction_fees',
      'platform_fee',
      'refunded_amount',
    ]) {
      expect([key, charge?.[key]]).toEqual([key, guideCharge[key]]);
    }
  });

  it("has every key of Omise's recorded pending QR charge (omise-go fixture)", async () => {
    const { stdout } = await run('curl', [
      '--silent',
      `${baseUrl}/charges`,
      '-u',
      `${secretKey}:`,
      '-d',
      'amount=400000',
      '-d',
      'currency=THB',
      '-d',
      'source[type]=truemoney_qr',
      '--globoff',
    ]);
    const ours = new Set(keyPaths(JSON.parse(stdout)));
    // The fixture's `created_at_at` is a typo of the omise-go fixture (see test/fixtures/omise/README.md).
    const theirs = keyPaths(paynowFixture).map((p) => p.replace(/created_at_at/g, 'created_at'));
    expect(theirs.filter((p) => !ours.has(p))).toEqual([]);
  });
});
