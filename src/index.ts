import { createApp } from "./app";
import { createDb } from "./db/client";
import { eventRetentionMs } from "./services/events";
import { runTokenHousekeeping } from "./services/housekeeping";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(
      runTokenHousekeeping(
        { db: createDb(env.DB), kv: env.TOKENS, now: controller.scheduledTime, actor: "cron" },
        {
          notifyWebhookUrl: env.NOTIFY_WEBHOOK_URL || undefined,
          eventRetentionMs: eventRetentionMs(env.EVENT_RETENTION_DAYS),
        },
      ),
    );
  },
} satisfies ExportedHandler<Env>;
