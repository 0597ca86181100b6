import { type Databases, openDatabases } from "./db/databases";
import { type D1Usage, meteredD1, noUsage } from "./db/metered";
import type { OperatorContext } from "./services/context";
import type { MoveContext } from "./services/tenant-move";
import { type DeliveryContext, maxOwedPerTenant, type WebhookMessage } from "./services/webhook-delivery";
import { webhookUrlPolicy } from "./services/webhooks";

/**
 * Where the service is put together: the deployment's D1 databases opened (each typed by its role, db/client.ts;
 * metered for a request; a tenant's behind the fence), and the contexts the use cases run with, for every way in:
 * a request (http/request-log.ts opens, http/*\/context.ts hand over), a queue message (queue.ts), a cron run
 * (index.ts) and a test (test/support/databases.ts). Nothing else opens a database.
 */

/**
 * A request's databases, every binding metered; `cost()`: the databases the request called and what it cost in
 * all, for its log line.
 */
export function requestDatabases(env: Env) {
  const usage = new Map<string, D1Usage>();
  const databases = openDatabases(env, (d1, name) => {
    const counted = noUsage();
    usage.set(name, counted);
    return meteredD1(d1, counted).db;
  });
  const cost = () => {
    const used = [...usage].filter(([, u]) => u.calls > 0);
    const d1 = noUsage();
    for (const [, u] of used) for (const key of Object.keys(d1) as (keyof D1Usage)[]) d1[key] += u[key];
    return { databases: used.map(([name]) => name), d1 };
  };
  return { databases, cost };
}

/** An operator's use case (admin API, console, cron, a move's step): the control database, every other, and KV. */
export const operatorContext = (
  env: Env,
  now: number,
  actor: string,
  databases: Databases = openDatabases(env),
): OperatorContext => ({ db: databases.control, databases, kv: env.TOKENS, now, actor });

/** Sends a move's next step, now or after a delay (queue.ts runs it). */
const scheduleMoves =
  (queue: Queue): MoveContext["schedule"] =>
  async (tenantId, delaySeconds) => {
    await queue.send({ tenantId }, delaySeconds ? { delaySeconds } : undefined);
  };

/** A move's use case: an operator's, with the queue that carries its steps. */
export const moveContext = (env: Env, base: OperatorContext): MoveContext => ({
  ...base,
  schedule: scheduleMoves(env.MOVE_QUEUE),
});

/**
 * The webhook queue's consumer and the sweep: the control database, every other, the queue, the sealing key, the URL
 * policy, the cap on what an endpoint may owe a tenant.
 */
export const deliveryContext = (env: Env, databases: Databases = openDatabases(env)): DeliveryContext => ({
  db: databases.control,
  databases,
  queue: env.WEBHOOK_QUEUE as Queue<WebhookMessage>,
  secretsKey: env.WEBHOOK_SECRETS_KEY,
  urlPolicy: webhookUrlPolicy(env),
  maxOwed: maxOwedPerTenant(env.WEBHOOK_MAX_OWED),
  now: Date.now,
});
