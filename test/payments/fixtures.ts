import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { OmiseCharge, OmiseRefund, OmiseSource } from '../../src/omise/types.js';

/** Helpers to read the recorded Omise responses and the guide's example JSON (test/fixtures). */

const root = fileURLToPath(new URL('../fixtures/', import.meta.url));

export function fixture<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(`${root}omise/${path}`, 'utf8')) as T;
}

/** The response body of a recorded 2017 exchange (elixir-2017/*.json: [{request, response}]). */
export function recordedBody<T = unknown>(path: string): { status: number; body: T } {
  const [exchange] = fixture<{ response: { body: string; status_code: number } }[]>(path);
  if (!exchange) throw new Error(`no exchange in ${path}`);
  return { status: exchange.response.status_code, body: JSON.parse(exchange.response.body) as T };
}

/** The JSON objects printed in the TrueMoney QR guide, in order, found by brace matching. */
export function guideObjects(): unknown[] {
  const text = readFileSync(`${root}truemoney-qr-guide.th.txt`, 'utf8');
  const objects: unknown[] = [];
  let i = 0;
  while ((i = text.indexOf('{\n  "object"', i)) !== -1) {
    let depth = 0;
    let end = i;
    for (; end < text.length; end++) {
      if (text[end] === '{') depth++;
      else if (text[end] === '}' && --depth === 0) break;
    }
    objects.push(JSON.parse(text.slice(i, end + 1)));
    i = end + 1;
  }
  return objects;
}

export function guideCharge(): OmiseCharge {
  const charge = guideObjects().find((o) => (o as { object: string }).object === 'charge');
  if (!charge) throw new Error('the guide has no charge example');
  return charge as OmiseCharge;
}

export function guideSource(): OmiseSource {
  const source = guideObjects().find((o) => (o as { object: string }).object === 'source');
  if (!source) throw new Error('the guide has no source example');
  return source as OmiseSource;
}

export type { OmiseCharge, OmiseRefund };
