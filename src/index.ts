import { createApp } from "./app";
import { createDb } from "./db/client";
import { deliveryContext, handleWebhookBatch } from "./queue";
import { eventRetentionMs } from "./services/events";
import { HOUSEKEEPING_CRON, runTokenHousekeeping } from "./services/housekeeping";
import { relay, type WebhookMessage } from "./services/webhook-delivery";

const app = createApp();

// The entry module exports handlers only: workerd treats every named export as an entrypoint.
export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    // wrangler.toml's other cron (every few minutes) is the webhook relay.
    if (controller.cron !== HOUSEKEEPING_CRON) {
      ctx.waitUntil(relay(deliveryContext(env)));
      return;
    }
    ctx.waitUntil(
      runTokenHousekeeping(
        { db: createDb(env.DB), kv: env.TOKENS, now: controller.scheduledTime, actor: "cron" },
        { eventRetentionMs: eventRetentionMs(env.EVENT_RETENTION_DAYS) },
      ),
    );
  },
  queue: (batch, env) => handleWebhookBatch(batch as MessageBatch<WebhookMessage>, env),
} satisfies ExportedHandler<Env, WebhookMessage>;
