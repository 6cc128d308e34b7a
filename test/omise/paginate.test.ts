import { describe, expect, it } from '@jest/globals';
import { paginate } from '../../src/omise/paginate.js';
import type { ListParams, OmiseList } from '../../src/omise/types.js';

/** An offset-paginated list of `items` served like Omise does (limit capped at 100). */
function listOf(items: number[], options: { total?: number } = {}) {
  const asked: ListParams[] = [];
  const fetchPage = async (params: ListParams): Promise<OmiseList<number>> => {
    asked.push(params);
    const limit = Math.min(100, params.limit ?? 20);
    const offset = params.offset ?? 0;
    return {
      object: 'list',
      data: items.slice(offset, offset + limit),
      limit,
      offset,
      total: options.total ?? items.length,
      location: '/things',
      order: 'chronological',
      from: '1970-01-01T00:00:00Z',
      to: '2026-11-27T00:00:00Z',
    };
  };
  return { fetchPage, asked };
}

async function collect<T>(iterator: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterator) out.push(item);
  return out;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('paginate', () => {
  it('walks pages of 100 until total', async () => {
    const { fetchPage, asked } = listOf(range(250));
    expect(await collect(paginate(fetchPage))).toEqual(range(250));
    expect(asked.map((p) => [p.limit, p.offset])).toEqual([
      [100, 0],
      [100, 100],
      [100, 200],
    ]);
  });

  it('keeps the caller’s filters, page size (clamped) and starting offset', async () => {
    const { fetchPage, asked } = listOf(range(10));
    expect(
      await collect(paginate(fetchPage, { limit: 4, offset: 3, order: 'reverse_chronological' })),
    ).toEqual(range(10).slice(3));
    expect(asked.map((p) => [p.limit, p.offset, p.order])).toEqual([
      [4, 3, 'reverse_chronological'],
      [4, 7, 'reverse_chronological'],
    ]);
    const big = listOf(range(5));
    await collect(paginate(big.fetchPage, { limit: 1000 }));
    expect(big.asked[0]?.limit).toBe(100);
  });

  it('stops on an empty page even if total says more', async () => {
    const { fetchPage, asked } = listOf(range(3), { total: 50 });
    expect(await collect(paginate(fetchPage, { limit: 2 }))).toEqual([0, 1, 2]);
    expect(asked).toHaveLength(3);
  });

  it('fetches nothing more once the caller stops', async () => {
    const { fetchPage, asked } = listOf(range(300));
    for await (const item of paginate(fetchPage)) if (item === 5) break;
    expect(asked).toHaveLength(1);
  });

  it('handles an empty list with one call', async () => {
    const { fetchPage, asked } = listOf([]);
    expect(await collect(paginate(fetchPage))).toEqual([]);
    expect(asked).toHaveLength(1);
  });
});
