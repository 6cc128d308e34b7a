/**
 * Opaque Relay cursors of the `charges` list, anchored on the last charge seen rather than on an
 * offset: a charge created while a client pages is newer than every anchor, so it never shifts the
 * later pages (an offset would make one charge appear twice). A cursor names that charge's created
 * second (Omise timestamps have second precision), its id, and its rank among the charges of that same
 * second in the list's order (1 = the newest of that second), so the next page starts right after it
 * with Omise's own `to` filter. Base64url of a versioned string, so that the format can change without
 * an old cursor being misread.
 */

export interface ChargeCursor {
  /** The anchor charge's `created_at`, in whole seconds since the epoch. */
  createdAtSecond: number;
  /** 1-based place of the anchor among the list's charges created in that second. */
  rank: number;
  /** The anchor charge's id, to check that the place still holds it. */
  id: string;
}

const PREFIX = 'k1';
/** Seconds up to the year 5138: a bound, not a limit anyone reaches. */
const MAX_SECOND = 100_000_000_000;
/** More charges in one second than this are not a real list. */
const MAX_RANK = 1_000_000;
const CHARGE_ID = /^chrg_(test_)?[0-9a-z]{1,40}$/;

export function encodeCursor(cursor: ChargeCursor): string {
  const { createdAtSecond, rank, id } = cursor;
  if (!Number.isSafeInteger(createdAtSecond) || createdAtSecond < 0 || createdAtSecond > MAX_SECOND) {
    throw new RangeError(`${createdAtSecond} is not a created second of a cursor`);
  }
  if (!Number.isSafeInteger(rank) || rank < 1 || rank > MAX_RANK) {
    throw new RangeError(`${rank} is not a rank of a cursor`);
  }
  if (!CHARGE_ID.test(id)) throw new RangeError('not a charge id');
  return Buffer.from(`${PREFIX}:${createdAtSecond}:${rank}:${id}`, 'utf8').toString('base64url');
}

/** The anchor a cursor names, or undefined when the string is not a cursor this gateway issued. */
export function decodeCursor(cursor: string): ChargeCursor | undefined {
  if (cursor.length === 0 || cursor.length > 128 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^k1:(0|[1-9][0-9]{0,11}):([1-9][0-9]{0,6}):([0-9a-z_]+)$/.exec(text);
  if (!match?.[1] || !match[2] || !match[3]) return undefined;
  const decoded = { createdAtSecond: Number(match[1]), rank: Number(match[2]), id: match[3] };
  try {
    // Only the exact string this module issues (base64url has several spellings of the same bytes).
    return encodeCursor(decoded) === cursor ? decoded : undefined;
  } catch {
    return undefined;
  }
}

/** Whole seconds of a date, as a cursor and Omise's `from`/`to` count them. */
export function secondOf(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
