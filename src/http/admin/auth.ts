import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../env";
import { AdminError } from "../../services/errors";

/**
 * `Authorization: Bearer <ADMIN_API_KEY>`. Both sides are hashed first so the comparison is over equal-length
 * digests, then compared in constant time (`crypto.subtle.timingSafeEqual`, a Workers extension).
 */
export const adminAuth = createMiddleware<AppEnv>(async (c, next) => {
  const expected = c.env.ADMIN_API_KEY;
  const presented = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("Authorization") ?? "")?.[1];
  if (!expected || !presented || !(await digestsEqual(presented, expected))) {
    throw new AdminError("unauthorized", "A valid admin API key is required (Authorization: Bearer <key>).");
  }
  await next();
});

/** Compares two secrets in constant time (the admin API's key check, and the console's sign-in). */
export async function digestsEqual(a: string, b: string) {
  const encoder = new TextEncoder();
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(da, db);
}
