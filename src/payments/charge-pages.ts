import type { OmiseApi } from '../omise/api.js';
import type { OmiseCharge, OmiseList } from '../omise/types.js';
import { encodeCursor, secondOf, type ChargeCursor } from './cursor.js';
import type { Charge } from './model.js';
import { mapCharge, toListChargesParams } from './omise-mapper.js';

/** How far the rare fallback looks for an anchor that is no longer where its cursor says. */
const ANCHOR_SEARCH_LIMIT = 100;

export interface ChargePageQuery {
  first: number;
  /** The last charge of the previous page (a decoded `after`); none → the newest charges. */
  after?: ChargeCursor | undefined;
  from?: Date | null | undefined;
  to?: Date | null | undefined;
}

export interface ChargePageRead {
  edges: { cursor: string; node: Charge }[];
  hasNextPage: boolean;
  /** Charges in [from, to] across all pages; costs one more Omise call after the first page. */
  totalCount: () => Promise<number>;
}

/**
 * One page of charges, newest first, after an anchor (see cursor.ts). The next page asks Omise for
 * the charges up to the anchor's second (`to`), from the anchor's place among that second's charges:
 * the first one returned must be the anchor itself, then come the charges after it. Charges created
 * meanwhile are newer than the anchor and outside `to`, so pages neither repeat nor skip. If the
 * anchor is not at its place (a charge was created in that very second after the page was read, or
 * Omise ordered equal timestamps differently), the anchor is looked for among that second's charges;
 * not found (gone, or too far), the list resumes at its old place.
 *
 * Omise calls: one per page; two or three on the fallback; `totalCount` after the first page one more,
 * only when asked for.
 */
export async function readChargePage(
  omise: Pick<OmiseApi, 'listCharges'>,
  query: ChargePageQuery,
): Promise<ChargePageRead> {
  const { first, after } = query;
  const list = (to: Date | null | undefined, offset: number, limit: number) =>
    omise.listCharges(toListChargesParams({ first: limit, offset, newestFirst: true, from: query.from, to }));

  let page: OmiseList<OmiseCharge>;
  /** Place in Omise's list (up to `to`) of page.data[0]. */
  let base = 0;
  /** Index in page.data of the first charge to return (1 when page.data[0] is the anchor). */
  let start = 0;
  if (after === undefined) {
    page = await list(query.to, 0, first);
  } else {
    const anchorTo = new Date(after.createdAtSecond * 1000);
    base = after.rank - 1;
    page = await list(anchorTo, base, first + 1);
    if (page.data[0]?.id === after.id) {
      start = 1;
    } else {
      const around = await list(anchorTo, 0, ANCHOR_SEARCH_LIMIT);
      const found = around.data.findIndex((charge) => charge.id === after.id);
      base = found >= 0 ? found + 1 : after.rank;
      page = await list(anchorTo, base, first);
    }
  }

  const charges = page.data.map(mapCharge);
  // Each charge's rank among the list's charges of its second. Only the second the list starts with
  // (the anchor's) can have charges before this page; every later second begins inside it.
  const listStartSecond = after?.createdAtSecond;
  const seen = new Map<number, number>();
  const edges = charges.map((node) => {
    const second = secondOf(node.createdAt);
    const count = (seen.get(second) ?? 0) + 1;
    seen.set(second, count);
    const rank = count + (second === listStartSecond ? base : 0);
    return { cursor: encodeCursor({ createdAtSecond: second, rank, id: node.id }), node };
  });
  const returned = edges.slice(start, start + first);
  const total = page.total;
  return {
    edges: returned,
    hasNextPage: base + start + returned.length < total,
    totalCount:
      after === undefined ? () => Promise.resolve(total) : async () => (await list(query.to, 0, 1)).total,
  };
}
