import { deliveryContext, moveContext, operatorContext } from "./composition";
import { logEvent } from "./lib/log";
import { unhandled } from "./lib/unhandled";
import { runMoveStep } from "./services/tenant-move";
import { deadLetter, deliver, fanOut, replayPage, type WebhookMessage } from "./services/webhook-delivery";

/** The queue whose messages the queue gave up on (wrangler.toml `dead_letter_queue`). */
export const DEAD_LETTER_QUEUE = "webhook-deliveries-dead";
/**
 * When processing a message throws (storage unavailable, a bug), it comes back after 30 s, doubling with each of its
 * attempts up to an hour: wrangler.toml's max_retries then spans about half a day before the dead-letter queue.
 */
const failedMessageDelay = (attempts: number) => Math.min(3600, 30 * 2 ** Math.max(0, attempts - 1));

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
        switch (body.kind) {
          case "fanout":
            if (!fannedOut.has(body.tenantId)) {
              fannedOut.add(body.tenantId);
              await fanOut(ctx, body.tenantId);
            }
            break;
          case "replay":
            await replayPage(ctx, body);
            break;
          case "deliver": {
            const outcome = await deliver(ctx, body);
            if ("retryInSeconds" in outcome) return message.retry({ delaySeconds: outcome.retryInSeconds });
            break;
          }
          default:
            unhandled(body);
        }
        message.ack();
      } catch (error) {
        logEvent("error", "webhook_message_failed", { ...body, error: String(error) });
        message.retry({ delaySeconds: failedMessageDelay(message.attempts) });
      }
    }),
  );
}

/** A step of a tenant's move between data databases (src/services/tenant-move.ts). */
export interface MoveMessage {
  tenantId: string;
}

/** The move queue of wrangler.toml (each environment's name starts so). */
export const isMoveQueue = (queue: string) => queue.startsWith("tenant-moves");

/**
 * Each message is one step of one move; the step says whether another follows, and when (the settle time after the
 * switch). A step never throws for its own failures (it records them and asks to be retried later); what does throw
 * (the control database unreachable) is retried by the queue.
 */
export async function handleMoveBatch(batch: MessageBatch<MoveMessage>, env: Env) {
  for (const message of batch.messages) {
    const ctx = moveContext(env, operatorContext(env, Date.now(), "move"));
    try {
      const outcome = await runMoveStep(ctx, message.body.tenantId);
      if (outcome.next === "now") await ctx.schedule(message.body.tenantId);
      if (outcome.next === "later") await ctx.schedule(message.body.tenantId, outcome.delaySeconds);
      message.ack();
    } catch (error) {
      logEvent("error", "tenant_move_message_failed", { ...message.body, error: String(error) });
      message.retry({ delaySeconds: failedMessageDelay(message.attempts) });
    }
  }
}
