/**
 * Parameter parsing shared by the routes. Values may come from JSON (numbers, booleans, objects) or
 * from form/query strings parsed by qs (everything a string, brackets → objects/arrays).
 */
import { badRequest, OmiseApiError } from './errors.js';
import type { Metadata } from './store.js';
import { EPOCH } from './serializers.js';
import { formatTimestamp } from './time.js';

export type Params = Record<string, unknown>;

export const SUPPORTED_SOURCE_TYPES = new Set(['truemoney_qr']);
export const SUPPORTED_CURRENCIES = new Set(['THB']);
export const MIN_AMOUNT = 10_000;
export const MAX_AMOUNT = 5_000_000;

/** Integer amount from a number or a numeric string; `undefined` when absent. */
export function parseAmount(value: unknown, name = 'amount'): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) n = Number(value);
  else throw badRequest(`${name} is not a number`);
  if (!Number.isFinite(n)) throw badRequest(`${name} is not a number`);
  if (!Number.isInteger(n)) throw badRequest(`${name} must be an integer`);
  return n;
}

export function requireAmount(value: unknown): number {
  const amount = parseAmount(value);
  if (amount === undefined) throw badRequest('amount is required');
  return amount;
}

/** THB only; answers Omise's `currency is currently not supported`. */
export function parseCurrency(value: unknown): string {
  if (value === undefined || value === null || value === '') throw badRequest('currency is required');
  if (typeof value !== 'string' || !SUPPORTED_CURRENCIES.has(value.toUpperCase())) {
    throw badRequest('currency is currently not supported');
  }
  return value.toUpperCase();
}

export function parseSourceType(value: unknown): string {
  if (value === undefined || value === null || value === '') throw badRequest('type is required');
  if (typeof value !== 'string' || !SUPPORTED_SOURCE_TYPES.has(value)) {
    throw badRequest('type is currently not supported');
  }
  return value;
}

/** Range check of a TrueMoney QR amount, with the error code of the endpoint. */
export function checkAmountRange(amount: number, code: string): void {
  if (amount < MIN_AMOUNT) {
    throw new OmiseApiError(400, code, `amount must be greater than or equal to ${MIN_AMOUNT}`);
  }
  if (amount > MAX_AMOUNT) {
    throw new OmiseApiError(400, code, `amount must be less than or equal to ${MAX_AMOUNT}`);
  }
}

export function parseBoolean(value: unknown, name: string): boolean | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === '1' || value === 1) return true;
  if (value === 'false' || value === '0' || value === 0) return false;
  throw badRequest(`${name} is not a boolean`);
}

export function parseOptionalString(
  value: unknown,
  name: string,
  maxLength = 10_000,
): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') throw badRequest(`${name} must be a string`);
  if (value.length > maxLength) throw badRequest(`${name} is too long (maximum is ${maxLength} characters)`);
  return value;
}

export function parseMetadata(value: unknown): Metadata | undefined {
  if (value === undefined) return undefined;
  if (value === null || value === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest('metadata must be an object');
  if (JSON.stringify(value).length > 15_000) throw badRequest('metadata is too large');
  return value as Metadata;
}

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** `webhook_endpoints[]` from JSON (array), form (qs array or object of indexes) or a single string. */
export function parseUrlList(value: unknown, name: string): string[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let list: unknown[];
  if (Array.isArray(value)) list = value;
  else if (typeof value === 'string') list = [value];
  else if (typeof value === 'object') list = Object.values(value as object);
  else throw badRequest(`${name} must be a list of URLs`);
  if (list.length > 10) throw badRequest(`${name} can have at most 10 URLs`);
  return list.map((item) => {
    if (typeof item !== 'string' || !isHttpUrl(item)) throw badRequest(`${name} must be a list of URLs`);
    return item;
  });
}

export function parseTimestamp(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') throw badRequest(`${name} is not a valid time`);
  const ms = typeof value === 'number' ? value * 1000 : Date.parse(value);
  if (!Number.isFinite(ms)) throw badRequest(`${name} is not a valid time`);
  return ms;
}

export interface ListQuery {
  limit: number;
  offset: number;
  order: 'chronological' | 'reverse_chronological';
  from: number;
  to: number;
}

/** Omise list parameters: limit (default 20, at most 100), offset, order, from/to (created_at filter). */
export function parseListQuery(params: Params, now: number): ListQuery {
  const limitRaw = parseAmount(params.limit, 'limit');
  const offsetRaw = parseAmount(params.offset, 'offset');
  if (limitRaw !== undefined && limitRaw < 0)
    throw new OmiseApiError(400, 'invalid_page', 'limit must be positive');
  if (offsetRaw !== undefined && offsetRaw < 0) {
    throw new OmiseApiError(400, 'invalid_page', 'offset must be positive');
  }
  const order = params.order ?? 'chronological';
  if (order !== 'chronological' && order !== 'reverse_chronological') {
    throw new OmiseApiError(400, 'invalid_filter', 'order must be chronological or reverse_chronological');
  }
  const from = parseTimestamp(params.from, 'from') ?? 0;
  const to = parseTimestamp(params.to, 'to') ?? now;
  if (from > to) throw new OmiseApiError(400, 'invalid_filter', 'from must be before to');
  return {
    limit: Math.min(limitRaw ?? 20, 100),
    offset: offsetRaw ?? 0,
    order,
    from,
    to,
  };
}

export function listWindow(query: ListQuery): { from: string; to: string } {
  return { from: query.from === 0 ? EPOCH : formatTimestamp(query.from), to: formatTimestamp(query.to) };
}
