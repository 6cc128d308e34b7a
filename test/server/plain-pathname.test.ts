import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { plainPathname } from '../../src/server/http-server.js';

/** Routing skips `new URL` for plain targets: it must route them exactly as `new URL` would. */
describe('plainPathname', () => {
  const pathnameOf = (target: string) => new URL(target, 'http://gateway.invalid').pathname;

  it('is the URL pathname whenever it answers', () => {
    const chars = fc.constantFrom(...'/aZ09_-.%?#:@ \\'.split(''), 'é');
    fc.assert(
      fc.property(fc.string({ unit: chars, maxLength: 24 }), (tail) => {
        const target = `/${tail}`;
        const plain = plainPathname(target);
        if (plain !== undefined) expect(plain).toBe(pathnameOf(target));
      }),
      { numRuns: 5000 },
    );
  });

  it('answers for the usual targets and leaves the rest to URL', () => {
    for (const target of ['/', '/graphql', '/webhooks/omise', '/demo/', '/readyz']) {
      expect(plainPathname(target)).toBe(target);
    }
    for (const target of [
      '//graphql',
      '/graphql?x=1',
      '/a/../graphql',
      '/./graphql',
      '/%67raphql',
      'http://x/graphql',
      '*',
    ]) {
      expect(plainPathname(target)).toBeUndefined();
    }
  });
});
