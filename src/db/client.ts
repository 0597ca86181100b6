import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

/** Built per request from the binding: Workers give each request its own env, so no module-level client. */
export function createDb(d1: D1Database) {
  return drizzle(d1, { schema });
}

export type Database = ReturnType<typeof createDb>;
