import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { startHarness, type Harness } from '../integration/support/harness.js';

/**
 * Every code block of docs/clients.md tagged `file=<name>` is written out, as a front-end team would,
 * next to the typed documents (`gateway-client/` → src/client/), with the gateway's address swapped
 * for a real gateway's (in front of a real simulator whose signed webhooks reach it). The files are
 * type-checked together; each block tagged `run` is run with Node (and a global WebSocket, as in a
 * browser or React Native), and its output must be exactly what its `// →` comments say.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const doc = readFileSync(join(root, 'docs/clients.md'), 'utf8');

interface Snippet {
  file: string;
  run: boolean;
  code: string;
}

function snippetsOf(markdown: string): Snippet[] {
  return [...markdown.matchAll(/^```ts file=(\S+)( run)?\n([\s\S]*?)^```$/gm)].map(([, file, run, code]) => ({
    file: file!,
    run: run !== undefined,
    code: code!,
  }));
}

/** `// → a, then b` after a statement: the lines it prints, in order. */
function expectedOutput(code: string): string[] {
  return [...code.matchAll(/\/\/ → (.*)$/gm)].flatMap(([, text]) => text!.split(', then '));
}

function run(
  command: string,
  args: string[],
  cwd: string,
  limitMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

jest.setTimeout(120_000);

describe('docs/clients.md', () => {
  const snippets = snippetsOf(doc);
  // Inside the repository, so that the snippets' packages resolve from its node_modules.
  const dir = join(root, '.snippets', randomUUID());
  let harness: Harness;

  beforeAll(async () => {
    const webhookSecret = randomBytes(32).toString('base64');
    harness = await startHarness({
      env: { OMISE_WEBHOOK_SECRET: webhookSecret },
      simulator: { webhookSecret },
      logLevel: 'info',
    });
    harness.sim.setWebhookUrls([`${harness.gateway.origin}/webhooks/omise`]);
    const host = new URL(harness.gateway.origin).host;
    mkdirSync(dir, { recursive: true });
    symlinkSync(join(root, 'src/client'), join(dir, 'gateway-client'), 'dir');
    for (const { file, code } of snippets) {
      writeFileSync(join(dir, file), code.replaceAll('localhost:4000', host));
    }
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../tsconfig.json',
        compilerOptions: { noEmit: true, types: ['node'], lib: ['ES2023', 'DOM'] },
        include: ['*.ts'],
      }),
    );
  });

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await harness?.close();
  });

  it('has the blocks this test expects', () => {
    expect(snippets.map((s) => `${s.file}${s.run ? ' (run)' : ''}`)).toEqual([
      'server.ts',
      'apollo.ts (run)',
      'urql.ts (run)',
      'phone.ts (run)',
    ]);
    for (const snippet of snippets.filter((s) => s.run)) {
      expect(expectedOutput(snippet.code).length).toBeGreaterThan(0);
    }
  });

  it('type-checks, typed documents and client libraries together', async () => {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], dir, 110_000);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it.each(snippets.filter((s) => s.run).map((s) => [s.file, s] as const))(
    '%s runs and prints what its comments say',
    async (_file, snippet) => {
      const result = await run(
        process.execPath,
        [
          // A global WebSocket, as browsers and React Native have (Node 22 has it without the flag).
          '--experimental-websocket',
          '--no-warnings',
          '--import',
          '@swc-node/register/esm-register',
          snippet.file,
        ],
        dir,
        60_000,
      );
      const printed = result.stdout.split('\n').filter((line) => line !== '');
      expect({ printed, stderr: result.stderr, code: result.code }).toEqual({
        printed: expectedOutput(snippet.code),
        stderr: '',
        code: 0,
      });
    },
  );
});
