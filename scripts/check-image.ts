/**
 * `npm run image:check`: the Dockerfile, replayed without Docker (no container engine runs on the
 * development and CI machines). Each stage gets a scratch directory standing for its file system; the
 * Dockerfile's own WORKDIR, COPY (from the context or `--from` an earlier stage), ENV and RUN
 * instructions are executed there, in order, with the host's Node and npm (npm ci reads the lock file;
 * it installs from npm's cache when it can). Then the runtime stage is started as the image would be:
 * the simulator (`node dist/simulator.js`) and the gateway (its CMD, with the image's ENV), and checked:
 * the HEALTHCHECK command passes, /readyz answers 200 (the time to it is printed), /demo and its files
 * are served, a charge paid in the simulator reaches a subscriber through a signed webhook, SIGTERM
 * exits 0, and no development package was installed. Exits 1 on the first failure.
 *
 * What it cannot check: the base image, the `node` user's permissions, HEALTHCHECK timings, the
 * network between containers. Options: --keep (leave the scratch directory), --redis <url> (default
 * redis://127.0.0.1:6379: the gateway shares state there, as in compose.yaml).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';

const { values: args } = parseArgs({
  options: {
    keep: { type: 'boolean', default: false },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
  },
});
const context = fileURLToPath(new URL('..', import.meta.url));

// ---- The Dockerfile ----

interface Instruction {
  keyword: string;
  rest: string;
}
interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [image = '', , name] = rest.split(/\s+/);
      const from = image.replace(/\$\{(\w+)\}/g, (_, arg: string) => globalArgs[arg] ?? '');
      stages.push({ name: name ?? String(stages.length), from, instructions: [] });
    } else if (upper === 'ARG' && stages.length === 0) {
      const [name = '', value = ''] = rest.split('=');
      globalArgs[name] = value;
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${keyword} before FROM`);
      stage.instructions.push({ keyword: upper, rest });
    }
  }
  return { args: globalArgs, stages };
}

/** `["a", "b"]` (exec form) or a shell string. */
function commandOf(rest: string): string[] {
  return rest.startsWith('[') ? (JSON.parse(rest) as string[]) : ['sh', '-c', rest];
}

// ---- Replaying it ----

interface Replayed {
  root: string;
  workdir: string;
  env: Record<string, string>;
  user: string | undefined;
  cmd: string[];
  healthcheck: string[] | undefined;
}

function step(message: string): void {
  console.log(`• ${message}`);
}

function fail(message: string): never {
  throw new Error(message);
}

function replay(stages: Stage[], scratch: string): Map<string, Replayed> {
  const done = new Map<string, Replayed>();
  for (const stage of stages) {
    const root = join(scratch, stage.name);
    mkdirSync(root, { recursive: true });
    const state: Replayed = {
      root,
      workdir: root,
      env: {},
      user: undefined,
      cmd: [],
      healthcheck: undefined,
    };
    const inStage = (stageRoot: string, path: string) => join(stageRoot, path);
    const resolveDest = (path: string) =>
      isAbsolute(path) ? inStage(root, path) : join(state.workdir, path);
    for (const { keyword, rest } of stage.instructions) {
      switch (keyword) {
        case 'WORKDIR':
          state.workdir = resolveDest(rest);
          mkdirSync(state.workdir, { recursive: true });
          break;
        case 'ENV':
          for (const [, key, value] of rest.matchAll(/(\w+)=(\S+)/g)) state.env[key!] = value!;
          break;
        case 'COPY': {
          const parts = rest.split(/\s+/);
          const fromFlag = parts.find((p) => p.startsWith('--from='));
          const paths = parts.filter((p) => !p.startsWith('--'));
          const dest = paths.pop() ?? fail(`COPY without a destination: ${rest}`);
          const sourceRoot = fromFlag
            ? (done.get(fromFlag.slice('--from='.length))?.root ?? fail(`COPY ${fromFlag}: no such stage`))
            : context;
          for (const source of paths) {
            const from = fromFlag ? inStage(sourceRoot, source) : join(sourceRoot, source);
            if (!existsSync(from)) fail(`stage ${stage.name}: COPY ${source}: not found`);
            // Docker's rules: a directory's contents go into the destination; a file goes into it when
            // it names a directory (trailing slash, or several sources), else becomes it.
            const intoDirectory = dest.endsWith('/') || paths.length > 1;
            const target =
              statSync(from).isDirectory() || !intoDirectory
                ? resolveDest(dest)
                : join(resolveDest(dest), basename(from));
            cpSync(from, target, { recursive: true });
          }
          break;
        }
        case 'RUN': {
          step(`[${stage.name}] RUN ${rest}`);
          const started = performance.now();
          const [command, ...commandArgs] = commandOf(rest);
          const result = spawnSync(command!, commandArgs, {
            cwd: state.workdir,
            env: {
              PATH: process.env.PATH ?? '',
              HOME: process.env.HOME ?? '',
              npm_config_prefer_offline: 'true',
              ...state.env,
            },
            stdio: ['ignore', 'inherit', 'inherit'],
          });
          if (result.status !== 0) fail(`stage ${stage.name}: RUN ${rest}: exit ${result.status}`);
          step(`  done in ${Math.round((performance.now() - started) / 1000)} s`);
          break;
        }
        case 'USER':
          state.user = rest;
          break;
        case 'CMD':
          state.cmd = commandOf(rest);
          break;
        case 'HEALTHCHECK':
          state.healthcheck = commandOf(rest.replace(/^(--\S+\s+)*CMD\s+/, ''));
          break;
        case 'EXPOSE':
        case 'ARG':
          break;
        default:
          fail(`stage ${stage.name}: ${keyword} is not replayed by this script; teach it`);
      }
    }
    done.set(stage.name, state);
  }
  return done;
}

// ---- Running the result ----

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function start(command: string[], cwd: string, env: Record<string, string>): ChildProcess {
  const child = spawn(command[0]!, command.slice(1), {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout!.resume();
  return child;
}

/** Any HTTP answer: the server listens. */
async function waitForAnswer(url: string, limitMs: number): Promise<void> {
  const started = performance.now();
  while (
    !(await fetch(url).then(
      () => true,
      () => false,
    ))
  ) {
    if (performance.now() - started > limitMs) fail(`${url}: no answer within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function waitFor(url: string, limitMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const ok = await fetch(url)
      .then((response) => response.ok)
      .catch(() => false);
    if (ok) return performance.now() - started;
    if (performance.now() - started > limitMs) fail(`${url} not 200 within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function gql<TData>(url: string, apiKey: string, query: string, variables: unknown): Promise<TData> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: TData; errors?: unknown[] };
  if (!body.data || body.errors) fail(`GraphQL: ${JSON.stringify(body)}`);
  return body.data;
}

/** The statuses a graphql-ws subscription of the charge receives until it completes. */
function watch(wsUrl: string, token: string, chargeId: string, whenFirst: () => void): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
    const statuses: string[] = [];
    const timer = setTimeout(() => reject(new Error(`no outcome; got ${statuses.join(', ')}`)), 20_000);
    socket.on('open', () =>
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })),
    );
    socket.on('message', (raw) => {
      const message = JSON.parse(raw.toString()) as {
        type: string;
        payload: { data: { chargeStatus: { status: string } } };
      };
      if (message.type === 'connection_ack') {
        socket.send(
          JSON.stringify({
            id: '1',
            type: 'subscribe',
            payload: {
              query: 'subscription($id: ID!) { chargeStatus(chargeId: $id) { status } }',
              variables: { id: chargeId },
            },
          }),
        );
      } else if (message.type === 'next') {
        statuses.push(message.payload.data.chargeStatus.status);
        if (statuses.length === 1) whenFirst();
      } else if (message.type === 'complete' || message.type === 'error') {
        clearTimeout(timer);
        socket.close();
        if (message.type === 'error') reject(new Error(JSON.stringify(message.payload)));
        else resolve(statuses);
      }
    });
    socket.on('error', reject);
  });
}

async function main(): Promise<void> {
  const dockerfile = parseDockerfile(readFileSync(join(context, 'Dockerfile'), 'utf8'));
  const scratch = mkdtempSync(join(tmpdir(), 'tmgw-image-'));
  const children: ChildProcess[] = [];
  try {
    step(`replaying ${dockerfile.stages.length} stages of the Dockerfile in ${scratch}`);
    const stages = replay(dockerfile.stages, scratch);
    const runtime = [...stages.values()].at(-1)!;
    if (!runtime.user || runtime.user === 'root' || runtime.user === '0')
      fail('the runtime stage runs as root');
    if (!runtime.healthcheck?.join(' ').includes('/healthz')) fail('no HEALTHCHECK on /healthz');
    if (runtime.cmd.join(' ') !== 'node dist/main.js') fail(`CMD is ${runtime.cmd.join(' ')}`);
    for (const devOnly of ['typescript', '@swc/core', 'jest', 'esbuild', 'playwright-core']) {
      if (existsSync(join(runtime.workdir, 'node_modules', devOnly)))
        fail(`${devOnly} (a devDependency) is in the image`);
    }
    step('runtime stage: non-root USER, HEALTHCHECK on /healthz, CMD node dist/main.js, no devDependencies');

    const secrets = {
      secretKey: `skey_test_${randomBytes(8).toString('hex')}`,
      publicKey: `pkey_test_${randomBytes(8).toString('hex')}`,
      webhookSecret: randomBytes(32).toString('base64'),
      apiKey: randomBytes(24).toString('base64url'),
    };
    const [port, simulatorPort] = [await freePort(), await freePort()];
    const simulator = start(['node', 'dist/simulator.js'], runtime.workdir, {
      SIMULATOR_PORT: String(simulatorPort),
      SIMULATOR_SECRET_KEY: secrets.secretKey,
      SIMULATOR_PUBLIC_KEY: secrets.publicKey,
      SIMULATOR_WEBHOOK_SECRET: secrets.webhookSecret,
      SIMULATOR_WEBHOOK_URL: `http://127.0.0.1:${port}/webhooks/omise`,
      LOG_LEVEL: 'warn',
    });
    children.push(simulator);
    await waitForAnswer(`http://127.0.0.1:${simulatorPort}/`, 10_000);

    const origin = `http://127.0.0.1:${port}`;
    const started = performance.now();
    const gateway = start(runtime.cmd, runtime.workdir, {
      ...runtime.env,
      PORT: String(port),
      OMISE_SECRET_KEY: secrets.secretKey,
      OMISE_PUBLIC_KEY: secrets.publicKey,
      OMISE_API_URL: `http://127.0.0.1:${simulatorPort}`,
      OMISE_WEBHOOK_SECRET: secrets.webhookSecret,
      GATEWAY_TOKEN_SECRET: randomBytes(48).toString('base64'),
      GATEWAY_API_KEYS: JSON.stringify([
        { name: 'check', key: secrets.apiKey, scopes: ['charges:create', 'charges:read', 'test:simulate'] },
      ]),
      REDIS_URL: args.redis!,
      REDIS_KEY_PREFIX: `tmgw-image-check-${randomBytes(4).toString('hex')}:`,
      DEMO_ENABLED: 'true',
      LOG_LEVEL: 'warn',
    });
    children.push(gateway);
    await waitFor(`${origin}/readyz`, 30_000);
    step(`gateway ready (/readyz 200) ${Math.round(performance.now() - started)} ms after its start`);

    const health = spawnSync(runtime.healthcheck![0]!, runtime.healthcheck!.slice(1), {
      env: { PATH: process.env.PATH ?? '', PORT: String(port) },
    });
    if (health.status !== 0) fail(`HEALTHCHECK exited ${health.status}`);
    step('HEALTHCHECK command passes');

    const page = await fetch(`${origin}/demo`);
    if (page.status !== 200) fail(`/demo: ${page.status}`);
    for (const path of ['/demo/checkout.js', '/demo/payment-api.js', '/demo/vendor/graphql-ws/client.js']) {
      const response = await fetch(`${origin}${path}`);
      if (response.status !== 200) fail(`${path}: ${response.status}`);
    }
    step('/demo and its files (web/, graphql-ws from node_modules) are served');

    const created = await gql<{
      createTrueMoneyCharge: { charge: { id: string }; clientToken: string };
    }>(
      `${origin}/graphql`,
      secrets.apiKey,
      'mutation { createTrueMoneyCharge(input: {amount: 10000}) { charge { id } clientToken userErrors { code } } }',
      {},
    );
    const { charge, clientToken } = created.createTrueMoneyCharge;
    const statuses = await watch(`ws://127.0.0.1:${port}/graphql`, clientToken, charge.id, () => {
      void gql(
        `${origin}/graphql`,
        secrets.apiKey,
        'mutation($id: ID!) { simulateChargeOutcome(input: {chargeId: $id, outcome: SUCCESSFUL}) { userErrors { code } } }',
        { id: charge.id },
      );
    });
    if (statuses.join(',') !== 'PENDING,SUCCESSFUL') fail(`subscription saw ${statuses.join(', ')}`);
    step('a charge paid in the simulator reached a subscriber through a signed webhook: PENDING, SUCCESSFUL');

    gateway.kill('SIGTERM');
    const code = await new Promise((resolve) => gateway.once('exit', resolve));
    if (code !== 0) fail(`the gateway exited ${code} on SIGTERM`);
    step('SIGTERM: exit 0');
    console.log(
      '\nThe Dockerfile replays and its image starts and works (as far as can be checked without Docker).',
    );
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    if (args.keep) console.log(`kept ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`\nimage check FAILED: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
