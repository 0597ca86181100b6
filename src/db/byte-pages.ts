import { type SQL, sql } from "drizzle-orm";
import { type RawRow, rowsOf } from "./batch";

/** A page's bounds: at most `rows` rows (the candidates' LIMIT), and about `bytes`. */
export interface PageBounds {
  rows: number;
  bytes: number;
}

/**
 * Pages bounded by bytes as well as rows: a row may hold a 64 KiB document (or a whole user's snapshot), so a count
 * alone would not bound what one call reads and the Worker holds. `candidates` reads at most `bounds.rows` rows in
 * `order`, each with what it weighs as `size_`; the page stops before the row that would take it past
 * `bounds.bytes` (the first row always comes, whatever its size, so a page is never empty while rows are left). One
 * query: the running total and the candidates' count are windows over the candidates, in the database, so only the
 * page's rows travel (the windows read the candidates again: measured, about 7,000 rows read for a page of 1,000).
 *
 * `page` maps the query's result: the rows without the cut's own columns, and whether more may follow (the
 * candidates were a full `bounds.rows`, or the budget left some of them out).
 */
export function cutByBytes(candidates: SQL, order: SQL, bounds: PageBounds) {
  return {
    query: sql`SELECT * FROM (SELECT *, sum(size_) OVER (ORDER BY ${order} ROWS UNBOUNDED PRECEDING) AS running_,
        count(*) OVER () AS candidates_ FROM (${candidates}))
      WHERE running_ - size_ < ${bounds.bytes} ORDER BY ${order}`,
    page(result: D1Result<RawRow> | undefined) {
      const found = rowsOf(result);
      const candidates = Number(found[0]?.candidates_ ?? 0);
      return {
        rows: found.map(({ size_: _s, running_: _r, candidates_: _c, ...row }) => row),
        more: candidates === bounds.rows || found.length < candidates,
      };
    },
  };
}
