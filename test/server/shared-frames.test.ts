import { describe, expect, it } from '@jest/globals';
import { SharedFrames } from '../../src/server/shared-frames.js';

describe('SharedFrames', () => {
  const result = { data: { chargeStatus: { status: 'SUCCESSFUL', note: 'é "quoted" \u2028' } } };

  it('writes a next frame byte for byte as graphql-ws would (JSON.stringify), serialising the payload once', () => {
    const frames = new SharedFrames();
    let reads = 0;
    const counted = {
      get data() {
        reads++;
        return result.data;
      },
    };
    for (const id of ['1', 'a"b', '∑', '\u0000x']) {
      expect(frames.next(id, counted)).toBe(JSON.stringify({ id, type: 'next', payload: result }));
    }
    expect(reads).toBe(1);
  });

  it('writes complete frames as graphql-ws would', () => {
    const frames = new SharedFrames();
    for (const id of ['1', 'a"b', '∑']) {
      expect(frames.complete(id)).toBe(JSON.stringify({ id, type: 'complete' }));
    }
  });
});
