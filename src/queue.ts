import { openDatabases } from "./db/databases";
import { logEvent } from "./lib/log";
import {
  type DeliveryContext,
  deadLetter,
  deliver,
  fanOut,
  replayPage,
  type WebhookMessage,
} from "./services/webhook-delivery";

/** The queue whose messages the queue gave up on (wrangler.toml `dead_letter_queue`). */
export const DEAD_LETTER_QUEUE = "webhook-deliveries-dead";
/**
 * When processing a message throws (storage unavailable, a bug), it comes back after 30 s, doubling with each of its
 * attempts up to an hour: wrangler.toml's max_retries then spans about half a day before the dead-letter queue.
 */
const failedMessageDelay = (attempts: number) => Math.min(3600, 30 * 2 ** Math.max(0, attempts - 1));

export const deliveryContext = (env: Env): DeliveryContext => {
  const databases = openDatabases(env);
  return {
    db: databases.control,
    databases,
    queue: env.WEBHOOK_QUEUE as Queue<WebhookMessage>,
    secretsKey: env.WEBHOOK_SECRETS_KEY,
    now: Date.now,
  };
};

/**
 * The one place queue messages become use cases. Messages of a batch run concurrently (one slow endpoint does not
 * hold up the others); nudges for the same tenant in one batch fan out once.
 */
export async function handleWebhookBatch(batch: MessageBatch<WebhookMessage>, env: Env) {
  const ctx = deliveryContext(env);
  if (batch.queue === DEAD_LETTER_QUEUE) {
    for (const message of batch.messages) {
      await deadLetter(ctx, message.body);
      message.ack();
    }
    return;
  }
  const fannedOut = new Set<string>();
  await Promise.all(
    batch.messages.map(async (message) => {
      const body = message.body;
      try {
        if (body.kind === "fanout") {
          if (!fannedOut.has(body.tenantId)) {
            fannedOut.add(body.tenantId);
            await fanOut(ctx, body.tenantId);
          }
        } else if (body.kind === "replay") {
          await replayPage(ctx, body);
        } else {
          const outcome = await deliver(ctx, body);
          if ("retryInSeconds" in outcome) return message.retry({ delaySeconds: outcome.retryInSeconds });
        }
        message.ack();
      } catch (error) {
        logEvent("error", "webhook_message_failed", { ...body, error: String(error) });
        message.retry({ delaySeconds: failedMessageDelay(message.attempts) });
      }
    }),
  );
}
