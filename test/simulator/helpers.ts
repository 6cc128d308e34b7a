import { expect } from '@jest/globals';
import { request } from 'node:http';
import qs from 'qs';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/simulator/index.js';

export interface ApiAnswer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface CallOptions {
  /** Basic-auth user; `null` sends no Authorization header. */
  key?: string | null;
  json?: unknown;
  form?: Record<string, unknown>;
  rawBody?: string;
  contentType?: string;
  query?: Record<string, unknown>;
  headers?: Record<string, string>;
}

export function basic(key: string): string {
  return `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
}

/**
 * One real HTTP request to the simulator (node:http, no keep-alive, so bodies on GET are possible and
 * nothing lingers after the test).
 */
export async function call(
  sim: { url: string; secretKey: string },
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<ApiAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  const key = options.key === undefined ? sim.secretKey : options.key;
  if (key !== null) headers.authorization = basic(key);
  let body: string | undefined;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] = 'application/json';
  } else if (options.form !== undefined) {
    body = qs.stringify(options.form);
    headers['content-type'] = 'application/x-www-form-urlencoded';
  } else if (options.rawBody !== undefined) {
    body = options.rawBody;
  }
  if (options.contentType) headers['content-type'] = options.contentType;
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  const query = options.query ? `?${qs.stringify(options.query)}` : '';
  const {
    status,
    headers: responseHeaders,
    raw,
  } = await new Promise<{
    status: number;
    headers: Headers;
    raw: Buffer;
  }>((resolve, reject) => {
    const req = request(`${sim.url}${path}${query}`, { method, headers, agent: false });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
        resolve({ status: res.statusCode ?? 0, headers: h, raw: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
  let parsed: unknown = raw;
  if ((responseHeaders.get('content-type') ?? '').includes('json')) parsed = JSON.parse(raw.toString('utf8'));
  else if ((responseHeaders.get('content-type') ?? '').startsWith('text/')) parsed = raw.toString('utf8');
  return { status, headers: responseHeaders, body: parsed };
}

/** 2024-09-23T03:18:47Z = 10:18:47 in Bangkok, the guide's example time. */
export const GUIDE_TIME = Date.parse('2024-09-23T03:18:47Z');
export const HOUR = 60 * 60 * 1000;
export const DAY = 24 * HOUR;

/** A simulator whose clock stands still (advanced only by the test), fast webhook retries. */
export function startTestSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  return startSimulator({
    now: () => GUIDE_TIME,
    webhookRetry: { baseDelayMs: 5, timeoutMs: 2000 },
    ...options,
  });
}

export async function createCharge(
  sim: RunningSimulator,
  params: Record<string, unknown> = {},
): Promise<ApiAnswer> {
  return call(sim, 'POST', '/charges', {
    json: { amount: 400000, currency: 'THB', source: { type: 'truemoney_qr' }, ...params },
  });
}

/** A charge paid at GUIDE_TIME (+ whatever the clock was advanced). */
export async function paidCharge(sim: RunningSimulator, amount = 400000): Promise<string> {
  const created = await createCharge(sim, { amount });
  expect(created.status).toBe(200);
  const paid = await call(sim, 'POST', `/charges/${created.body.id}/mark_as_paid`);
  expect(paid.body.status).toBe('successful');
  return created.body.id as string;
}

/** Every key path of a JSON value (`a.b`, arrays as `a[]`), for shape comparisons. */
export function keyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) {
    return [...new Set(value.flatMap((item) => keyPaths(item, `${prefix}[]`)))].sort();
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .flatMap(([k, v]) => {
        const path = prefix ? `${prefix}.${k}` : k;
        return [path, ...keyPaths(v, path)];
      })
      .sort();
  }
  return [];
}

export const OMISE_ID = (prefix: string) => new RegExp(`^${prefix}_test_[0-9a-z]{19}$`);
export const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
