import { wrapD1 } from "../../src/db/d1-wrapper";
import { DATABASES, type DatabaseName } from "./databases";

/**
 * D1 bindings for tests that need to see or break what a request does to the database. Every `first/all/run/raw`
 * and every `batch` is one call (one network round trip in production).
 */
/** Hooks see each call's SQL (one text, or one per statement of a batch); they may throw, or wait. */
type Hook = (statements: number, sql: string[]) => void | Promise<void>;
type AfterHook = (result: unknown, sql: string[]) => void | Promise<void>;

/** A D1 binding that calls `before` ahead of each call and `after` with each call's result (src/db/d1-wrapper.ts). */
export const interceptD1 = (d1: D1Database, before: Hook, after: AfterHook = () => {}): D1Database =>
  wrapD1(d1, { before: (sql) => before(sql.length, sql), after });

export interface D1Cost {
  calls: number;
  /** Round trips one after the other: a call that starts while none is in flight (of any binding sharing the cost). */
  rounds: number;
  statements: number;
  rowsRead: number;
  /** The SQL text sent, in characters, every statement's: what D1 carries and SQLite parses, call after call. */
  sqlChars: number;
}

const noCost = (): D1Cost => ({ calls: 0, rounds: 0, statements: 0, rowsRead: 0, sqlChars: 0 });

/** Calls in flight per cost, so bindings counting into one cost see each other's. */
const inFlight = new WeakMap<D1Cost, number>();

const resetCost = (cost: D1Cost) => {
  inFlight.delete(cost);
  Object.assign(cost, noCost());
};

/**
 * Counts calls, rounds, statements (inside batches too), rows read (D1's own result metadata) and SQL text into
 * `cost`.
 */
export function countingD1(d1: D1Database, cost: D1Cost = noCost()) {
  const db = interceptD1(
    d1,
    (statements, sql) => {
      cost.sqlChars += sql.reduce((sum, text) => sum + text.length, 0);
      const flying = inFlight.get(cost) ?? 0;
      if (flying === 0) cost.rounds++;
      inFlight.set(cost, flying + 1);
      cost.calls++;
      cost.statements += statements;
    },
    (result) => {
      inFlight.set(cost, (inFlight.get(cost) ?? 1) - 1);
      for (const r of Array.isArray(result) ? result : [result])
        cost.rowsRead += (r as D1Result | null)?.meta?.rows_read ?? 0;
    },
  );
  return { db, cost, reset: () => resetCost(cost) };
}

/** Fails the N-th call (counted in `calls`, which several bindings may share) the way D1 does when the network drops. */
export function failingD1(d1: D1Database, failOn: number, calls = { n: 0 }) {
  return interceptD1(d1, () => {
    if (++calls.n === failOn) throw new Error("D1_ERROR: Network connection lost.");
  });
}

/** Every database of the test deployment, each wrapped by `wrap`: bindings to pass to the worker. */
const eachDatabase = (wrap: (d1: D1Database) => D1Database) =>
  Object.fromEntries(Object.entries(DATABASES).map(([name, d1]) => [name, wrap(d1)])) as Record<
    DatabaseName,
    D1Database
  >;

/** Every database counted into one cost (a call to any of them is a round trip), and each into its own (`of`). */
export function countingDatabases() {
  const cost = noCost();
  const of = Object.fromEntries(Object.keys(DATABASES).map((name) => [name, noCost()])) as Record<DatabaseName, D1Cost>;
  const bindings = Object.fromEntries(
    Object.entries(DATABASES).map(([name, d1]) => [
      name,
      countingD1(countingD1(d1, of[name as DatabaseName]).db, cost).db,
    ]),
  ) as Record<DatabaseName, D1Database>;
  return {
    bindings,
    cost,
    of,
    reset: () => [cost, ...Object.values(of)].forEach(resetCost),
  };
}

/** Every database, failing the N-th call made to any of them. */
export function failingDatabases(failOn: number) {
  const calls = { n: 0 };
  return eachDatabase((d1) => failingD1(d1, failOn, calls));
}

/**
 * Runs `action` once, right after the first D1 call whose SQL matches, before the request that made the call goes
 * on: a concurrent request landing at exactly that point, for tests of interleavings.
 */
export function raceAfter(
  d1: D1Database,
  matches: (sql: string) => boolean,
  action: () => Promise<unknown>,
  once = { fired: false },
) {
  return interceptD1(
    d1,
    () => {},
    async (_, sql) => {
      if (once.fired || !sql.some(matches)) return;
      once.fired = true;
      await action();
    },
  );
}

/** raceAfter over every database: the action runs once, after the first matching call to any of them. */
export function racingDatabases(matches: (sql: string) => boolean, action: () => Promise<unknown>) {
  const once = { fired: false };
  return eachDatabase((d1) => raceAfter(d1, matches, action, once));
}
