import { describe, expect, it } from '@jest/globals';
import { decodeCursor, encodeCursor } from '../../src/payments/cursor.js';

describe('cursors', () => {
  it('round-trip anchors (created second, rank, id) and look opaque', () => {
    const anchors = [
      { createdAtSecond: 0, rank: 1, id: 'chrg_test_5xy1lemgybmnxzfvxi2' },
      { createdAtSecond: 1_727_061_527, rank: 3, id: 'chrg_5xy1lemgybmnxzfvxi2' },
    ];
    for (const anchor of anchors) {
      const cursor = encodeCursor(anchor);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(cursor).not.toContain('chrg');
      expect(decodeCursor(cursor)).toEqual(anchor);
    }
  });

  it('refuse garbage, old offset cursors, out-of-range and non-canonical cursors', () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    const garbage = [
      '',
      'abc',
      '!!!',
      b64('o1:20'),
      b64('k1:-1:1:chrg_test_abc'),
      b64('k1:01:1:chrg_test_abc'),
      b64('k1:1:0:chrg_test_abc'),
      b64('k1:1:1:src_test_abc'),
      b64('k1:1:1:chrg_test_ABC'),
      b64('k1:999999999999:1:chrg_test_abc'),
      b64('k2:1:1:chrg_test_abc'),
      'x'.repeat(200),
    ];
    for (const cursor of garbage) expect(decodeCursor(cursor)).toBeUndefined();
    expect(() => encodeCursor({ createdAtSecond: -1, rank: 1, id: 'chrg_test_abc' })).toThrow(RangeError);
    expect(() => encodeCursor({ createdAtSecond: 1.5, rank: 1, id: 'chrg_test_abc' })).toThrow(RangeError);
    expect(() => encodeCursor({ createdAtSecond: 1, rank: 0, id: 'chrg_test_abc' })).toThrow(RangeError);
    expect(() => encodeCursor({ createdAtSecond: 1, rank: 1, id: 'x:y' })).toThrow(RangeError);
  });
});
