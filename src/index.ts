import { createApp } from "./app";
import { deliveryContext, moveContext, operatorContext } from "./composition";
import { handleMoveBatch, handleWebhookBatch, isMoveQueue, type MoveMessage } from "./queue";
import { eventRetentionMs } from "./services/events";
import { HOUSEKEEPING_CRON, runHousekeeping } from "./services/housekeeping";
import { drainOutbox } from "./services/relay";
import { nudgeStalledMoves } from "./services/tenant-move";
import { sweepWebhooks, type WebhookMessage } from "./services/webhook-delivery";
import { APP_SURFACES } from "./surfaces";

/**
 * D1 calls of the every-few-minutes relay: about 20 passes of 30 entries (three calls each when none fails), for a
 * backlog left by a data database's outage, or a release of many users going on.
 */
const RELAY_CALLS = 100;

const app = createApp({ surfaces: APP_SURFACES });

// The app worker's entry: every surface (the SCIM worker, src/scim-worker.ts, passes on all but Entra's), the crons
// and the queues' consumers. The entry module exports handlers only: workerd treats every named export as an entrypoint.
export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    // wrangler.toml's other cron (every few minutes) catches up: it relays the outbox into the data databases,
    // sweeps up what the webhook queue did not handle, and nudges moves whose next step's message was lost.
    if (controller.cron !== HOUSEKEEPING_CRON) {
      const delivery = deliveryContext(env);
      // Each on its own: a failing relay of the outbox must not keep the webhook sweep from running.
      ctx.waitUntil(drainOutbox(delivery, RELAY_CALLS));
      ctx.waitUntil(sweepWebhooks(delivery));
      ctx.waitUntil(nudgeStalledMoves(moveContext(env, operatorContext(env, controller.scheduledTime, "move"))));
      return;
    }
    ctx.waitUntil(
      runHousekeeping(operatorContext(env, controller.scheduledTime, "cron"), {
        eventRetentionMs: eventRetentionMs(env.EVENT_RETENTION_DAYS),
      }),
    );
  },
  queue: (batch, env) =>
    isMoveQueue(batch.queue)
      ? handleMoveBatch(batch as MessageBatch<MoveMessage>, env)
      : handleWebhookBatch(batch as MessageBatch<WebhookMessage>, env),
} satisfies ExportedHandler<Env, WebhookMessage | MoveMessage>;
