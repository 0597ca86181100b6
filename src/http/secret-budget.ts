import type { Context } from "hono";
import type { AppEnv } from "../env";
import { AdminError } from "../services/errors";

/**
 * Client secrets an integration may get per minute, from the admin API and the pages alike (SECRET_RATE_LIMITER):
 * a rotation needs one; a loop of additions and deletions is refused before it hashes, writes or publishes.
 */
export async function spendSecretBudget(c: Context<AppEnv>, tenantId: string, integrationId: string) {
  const { success } = await c.env.SECRET_RATE_LIMITER.limit({ key: `${tenantId}/${integrationId}` });
  if (!success) {
    throw new AdminError(
      "secrets_rate_limited",
      "Too many client secrets added to this integration; retry in a minute.",
    );
  }
}
