import type { Context } from "hono";
import { moveContext as composeMove, operatorContext as composeOperator } from "../../composition";
import type { AppEnv } from "../../env";
import type { OperatorContext } from "../../services/context";
import type { MoveContext } from "../../services/tenant-move";
import { type IssuingContext, tokenSigningKeys } from "../../services/tokens";
import type { WebhookMessage } from "../../services/webhook-delivery";
import { type WebhookAdminContext, webhookUrlPolicy } from "../../services/webhooks";

/** What an operator use case runs with when the admin API calls it (issuing tokens included). */
export const operatorContext = (c: Context<AppEnv>): IssuingContext => ({
  ...composeOperator(c.env, c.var.now, "admin", c.var.databases),
  signingKeys: tokenSigningKeys(c.env.TOKEN_SIGNING_KEYS),
});

/** The `:tenantId` of a tenant-scoped admin route (the use case checks the tenant exists). */
export const tenantParam = (c: Context<AppEnv>) => c.req.param("tenantId") as string;

/** The same, with what webhook use cases need: the key that seals signing secrets, the queue, the URL policy. */
export const webhookContext = (c: Context<AppEnv>): WebhookAdminContext => ({
  ...operatorContext(c),
  secretsKey: c.env.WEBHOOK_SECRETS_KEY,
  queue: c.env.WEBHOOK_QUEUE as Queue<WebhookMessage>,
  urlPolicy: webhookUrlPolicy(c.env),
});

/** The same (or `base`: the console's page context), with the queue that runs a tenant move's steps. */
export const moveContext = (c: Context<AppEnv>, base: OperatorContext = operatorContext(c)): MoveContext =>
  composeMove(c.env, base);
