/**
 * Opaque Relay cursors over Omise's offset pagination. A cursor names the offset of the item *after* the
 * edge it belongs to, so `after: cursor` starts the next page right there. Base64url of a versioned
 * string, so the format can change without breaking old cursors silently.
 */

const PREFIX = 'o1:';
/** Larger offsets than this are not real pages (Omise lists are far smaller). */
const MAX_OFFSET = 1_000_000_000;

export function encodeCursor(offset: number): string {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > MAX_OFFSET) {
    throw new RangeError(`offset ${offset} cannot be a cursor`);
  }
  return Buffer.from(`${PREFIX}${offset}`, 'utf8').toString('base64url');
}

/** The offset a cursor encodes, or undefined when the string is not a cursor this gateway issued. */
export function decodeCursor(cursor: string): number | undefined {
  if (cursor.length === 0 || cursor.length > 64 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^o1:(0|[1-9][0-9]{0,9})$/.exec(text);
  if (!match?.[1]) return undefined;
  const offset = Number(match[1]);
  // Only the exact string this module issued (base64url has several spellings of the same bytes).
  return offset <= MAX_OFFSET && encodeCursor(offset) === cursor ? offset : undefined;
}
