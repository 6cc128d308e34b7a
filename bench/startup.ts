/**
 * `npm run bench:startup`: how long the gateway takes from its command to a 200 from `/readyz`, for the
 * ways it is started: `npm start` (TypeScript compiled by swc at every start), the same without npm,
 * tsc's output as separate modules, and the built bundle (`npm run build` → `node dist/main.js`, what
 * the container image runs). The
 * variants alternate round by round so that they share the machine's conditions; each figure is the
 * median over the rounds, with the CPU time the process tree used until ready (less sensitive to a busy
 * machine than wall time). Simulator mode (no Omise keys): the embedded simulator starts too.
 * Options: --rounds <n> (default 7), --no-build (use dist/ as it is), --out <dir> (default bench/results/).
 * Writes startup.{md,json} there. See docs/benchmarks.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadAverage, machineMeta, median, sourceDescription } from './report.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    build: { type: 'boolean', default: true },
    out: { type: 'string', default: 'bench/results' },
  },
  allowNegative: true,
});
const root = fileURLToPath(new URL('..', import.meta.url));

interface Variant {
  name: string;
  command: string;
  args: string[];
}

const VARIANTS: Variant[] = [
  { name: '`npm start`', command: 'npm', args: ['start', '--silent'] },
  {
    name: '`node --import @swc-node/register/esm-register src/main.ts`',
    command: process.execPath,
    args: ['--import', '@swc-node/register/esm-register', 'src/main.ts'],
  },
  {
    name: '`node dist/modules/main.js` (tsc output, not bundled)',
    command: process.execPath,
    args: ['dist/modules/main.js'],
  },
  { name: '`node dist/main.js` (built bundle)', command: process.execPath, args: ['dist/main.js'] },
];

interface Sample {
  wallMs: number;
  cpuMs: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** utime + stime of a process and its descendants, from /proc (Linux). */
function treeCpuMs(pid: number): number {
  let ticks = 0;
  const visit = (id: number) => {
    try {
      const stat = readFileSync(`/proc/${id}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
      for (const task of readdirSync(`/proc/${id}/task`)) {
        const children = readFileSync(`/proc/${id}/task/${task}/children`, 'utf8').trim();
        for (const child of children ? children.split(' ') : []) visit(Number(child));
      }
    } catch {
      // The process ended meanwhile.
    }
  };
  visit(pid);
  return (ticks * 1000) / TICKS_PER_SECOND;
}

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

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid!, 'SIGTERM'); // its process group: npm and the node it started
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function measure(variant: Variant): Promise<Sample> {
  const [port, simulatorPort] = [await freePort(), await freePort()];
  const started = performance.now();
  const child = spawn(variant.command, variant.args, {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(port),
      SIMULATOR_PORT: String(simulatorPort),
      LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
    detached: true,
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${variant.name} exited with ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`)
        .then((response) => response.ok)
        .catch(() => false);
      if (ok) break;
      if (performance.now() - started > 60_000) throw new Error(`${variant.name}: not ready in 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return { wallMs: performance.now() - started, cpuMs: treeCpuMs(child.pid!) };
  } finally {
    await stop(child);
  }
}

async function main(): Promise<void> {
  const rounds = Number(args.rounds);
  if (args.build) {
    const build = spawn('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
    const code = await new Promise((resolve) => build.once('exit', resolve));
    if (code !== 0) throw new Error('npm run build failed');
  }
  const meta = { ...machineMeta(), source: sourceDescription(), rounds, date: new Date().toISOString() };
  const samples = new Map<string, Sample[]>(VARIANTS.map((v) => [v.name, []]));
  for (let round = 1; round <= rounds; round += 1) {
    // Alternating order: no variant always runs first (or right after another's shutdown).
    const order = round % 2 ? VARIANTS : [...VARIANTS].reverse();
    for (const variant of order) {
      const sample = await measure(variant);
      samples.get(variant.name)!.push(sample);
      console.error(
        `round ${round}: ${variant.name} ${Math.round(sample.wallMs)} ms (CPU ${sample.cpuMs} ms)`,
      );
    }
  }
  const baseline = median(samples.get(VARIANTS[0]!.name)!.map((s) => s.wallMs));
  const rows = VARIANTS.map((variant) => {
    const list = samples.get(variant.name)!;
    const wall = list.map((s) => s.wallMs);
    return {
      variant: variant.name,
      wallMedianMs: Math.round(median(wall)),
      wallMinMs: Math.round(Math.min(...wall)),
      wallMaxMs: Math.round(Math.max(...wall)),
      cpuMedianMs: Math.round(median(list.map((s) => s.cpuMs))),
      ofNpmStart: Math.round((median(wall) / baseline) * 100) / 100,
    };
  });
  const markdown = [
    `Start-up to a ready \`/readyz\` (simulator mode), median of ${rounds} alternating rounds.`,
    '',
    '| command | wall, median (min–max) | CPU until ready, median | wall vs `npm start` |',
    '| --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.variant} | ${r.wallMedianMs} ms (${r.wallMinMs}–${r.wallMaxMs}) | ${r.cpuMedianMs} ms | ${r.ofNpmStart.toFixed(2)} |`,
    ),
    '',
    `Node ${meta.node}, ${meta.cpus} × ${meta.cpuModel}, load average ${meta.loadAverageAtStart.join(' / ')} at the start and ${loadAverage().join(' / ')} at the end; ${meta.source}; ${meta.date}.`,
    '',
  ].join('\n');
  console.log(markdown);
  await mkdir(args.out!, { recursive: true });
  await writeFile(join(args.out!, 'startup.md'), markdown);
  await writeFile(
    join(args.out!, 'startup.json'),
    `${JSON.stringify({ meta, rows, samples: Object.fromEntries(samples) }, null, 2)}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
