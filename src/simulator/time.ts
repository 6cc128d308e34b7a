const DAY_MS = 24 * 60 * 60 * 1000;
const BANGKOK_OFFSET_MS = 7 * 60 * 60 * 1000;

/** Omise's timestamp format: ISO 8601 UTC without milliseconds (`2024-09-23T03:18:47Z`). */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Calendar day number in Bangkok (UTC+7, no DST): voids are possible only on the day of payment. */
export function bangkokDay(ms: number): number {
  return Math.floor((ms + BANGKOK_OFFSET_MS) / DAY_MS);
}

export { DAY_MS };
