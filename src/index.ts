import { createApp } from "./app";
import { runTokenHousekeeping } from "./cron/token-housekeeping";
import { createDb } from "./db/client";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(
      runTokenHousekeeping({
        db: createDb(env.DB),
        kv: env.TOKENS,
        now: controller.scheduledTime,
        notifyWebhookUrl: env.NOTIFY_WEBHOOK_URL || undefined,
      }),
    );
  },
} satisfies ExportedHandler<Env>;
