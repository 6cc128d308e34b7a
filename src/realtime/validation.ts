/** Argument checks shared by the adapters, so that memory and Redis refuse the same inputs. */

/** A TTL must be a positive, finite number of milliseconds; fractions round up (Redis PX is integral). */
export function checkTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0)
    throw new RangeError(`ttlMs must be a positive number, got ${ttlMs}`);
  return Math.ceil(ttlMs);
}

export function checkFiniteNumber(n: number): number {
  if (!Number.isFinite(n)) throw new RangeError(`expected a finite number, got ${n}`);
  return n;
}

/**
 * Serialises a message once per publish. Both adapters carry messages as JSON, so subscribers always
 * get plain data (a `Date` arrives as its ISO string) and never share an object with the publisher.
 */
export function toJson(message: unknown): string {
  const json = JSON.stringify(message);
  if (json === undefined) throw new TypeError('message is not JSON-serialisable');
  return json;
}
