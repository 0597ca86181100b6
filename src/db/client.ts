import { drizzle } from "drizzle-orm/d1";

/**
 * Built per request from the binding: Workers give each request its own env, so no module-level client. Without the
 * schema: nothing uses drizzle's relational queries, and building their config costs every client (a SCIM request
 * builds two, the control database's and its tenant's).
 */
export function createDb(d1: D1Database) {
  return drizzle(d1);
}

export type Database = ReturnType<typeof createDb>;
