import type { ListParams, OmiseList } from './types.js';

/** Omise's largest page. */
export const MAX_PAGE_SIZE = 100;

/**
 * Walks an Omise list page by page (offset pagination, pages of `params.limit`, default and at most 100)
 * and yields every item, starting at `params.offset` (default 0). Stops once `total` items are behind
 * the offset, or on an empty page (so a shrinking list cannot make it loop forever). Pages are fetched
 * lazily: breaking out of the loop stops fetching.
 *
 * @example for await (const charge of paginate((p) => client.listCharges(p), { order: 'chronological' })) …
 */
export async function* paginate<T>(
  fetchPage: (params: ListParams) => Promise<OmiseList<T>>,
  params: ListParams = {},
): AsyncIterableIterator<T> {
  const limit = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(params.limit ?? MAX_PAGE_SIZE)));
  let offset = Math.max(0, Math.floor(params.offset ?? 0));
  for (;;) {
    const page = await fetchPage({ ...params, limit, offset });
    for (const item of page.data) yield item;
    if (page.data.length === 0) return;
    // Continue from where the server says this page started, not from where we asked.
    offset = page.offset + page.data.length;
    if (offset >= page.total) return;
  }
}
