import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from '@jest/globals';

/**
 * A seconds-long run of `npm run bench` so that the harness cannot rot: every kind of scenario runs
 * once, tiny (a read against an anchor in its own process, a write, the socket burst, a change seen on
 * two Redis instances), and the report must come out complete and without failures. No timing is
 * checked: figures from a run this short mean nothing.
 */
it('npm run bench runs end to end (smoke)', async () => {
  const out = await mkdtemp(join(tmpdir(), 'bench-smoke-'));
  try {
    await promisify(execFile)(
      process.execPath,
      [
        '--import',
        '@swc-node/register/esm-register',
        'bench/run.ts',
        ...['--only', 'charge-paid,create-no-key,burst,visibility'],
        ...['--duration', '0.5', '--rounds', '1', '--writes', '20', '--connections', '5'],
        ...[
          '--burst-sockets',
          '40',
          '--burst-charges',
          '4',
          '--open-rate',
          '400',
          '--visibility-trials',
          '1',
        ],
        ...['--out', out],
      ],
      // jest's ESM flags must not reach the bench's own processes.
      { env: { ...process.env, NODE_OPTIONS: '' }, timeout: 150_000, maxBuffer: 16 * 1024 * 1024 },
    );
    const report = JSON.parse(await readFile(join(out, 'latest.json'), 'utf8')) as {
      rows: { name: string; requests?: number; failures?: number; skipped?: string }[];
      burst: { registered: number; delivered: number; sockets: number } | { skipped: string };
      visibility: { trials: number } | { skipped: string };
    };
    const names = report.rows.map((r) => r.name).sort();
    expect(names).toEqual(['apollo-hello', 'charge-paid', 'create-no-key', 'simulator-create']);
    for (const row of report.rows) {
      expect(row).toMatchObject({ failures: 0 });
      expect(row.requests).toBeGreaterThan(0);
    }
    expect(report.burst).toMatchObject({ sockets: 40, registered: 40, delivered: 40 });
    expect(report.visibility).toMatchObject({ trials: 1 });
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}, 180_000);
