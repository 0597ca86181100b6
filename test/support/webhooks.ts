import { env } from "cloudflare:workers";
import { deliveryContext } from "../../src/composition";
import type { DeliveryKey } from "../../src/db/webhooks";
import { fanOut, type WebhookMessage } from "../../src/services/webhook-delivery";
import { createUserBody } from "../fixtures/entra";
import { fetchWith, scim, type TestTenant } from "./http";

/** A queue that takes messages and drops them: a nudge that is lost. */
export const dropping = { send: async () => {}, sendBatch: async () => {} } as unknown as Queue;

/**
 * A user created with its nudge held back, then fanned out by hand with a queue that only records: the deliveries
 * the fan-out would have sent, and the context to attempt them directly.
 */
export async function createdByHand(t: TestTenant, name: string) {
  await scim(t, "POST", "/Users", {
    body: createUserBody(name),
    fetch: fetchWith({ bindings: { WEBHOOK_QUEUE: dropping } }),
  });
  const recorded: DeliveryKey[] = [];
  const capture = {
    send: async () => {},
    sendBatch: async (batch: { body: WebhookMessage }[]) => {
      for (const { body } of batch) if (body.kind === "deliver") recorded.push(body);
    },
  } as unknown as Queue<WebhookMessage>;
  const ctx = { ...deliveryContext(env), queue: capture };
  await fanOut(ctx, t.tenantId);
  return { ctx, recorded };
}
