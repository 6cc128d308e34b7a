import { describe, expect, it } from '@jest/globals';
import { decodeCursor, encodeCursor } from '../../src/payments/cursor.js';

describe('cursors', () => {
  it('round-trip offsets and look opaque', () => {
    for (const offset of [0, 1, 20, 99, 123456]) {
      const cursor = encodeCursor(offset);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(cursor).not.toContain(String(offset === 0 ? 'x' : offset));
      expect(decodeCursor(cursor)).toBe(offset);
    }
  });

  it('refuse garbage, negative, oversized and non-canonical cursors', () => {
    const garbage = [
      '',
      'abc',
      '!!!',
      'bzE6',
      Buffer.from('o1:-1').toString('base64url'),
      Buffer.from('o1:01').toString('base64url'),
      Buffer.from('o1:99999999999').toString('base64url'),
      Buffer.from('o2:1').toString('base64url'),
      'x'.repeat(100),
    ];
    for (const cursor of garbage) expect(decodeCursor(cursor)).toBeUndefined();
    expect(() => encodeCursor(-1)).toThrow(RangeError);
    expect(() => encodeCursor(1.5)).toThrow(RangeError);
  });
});
