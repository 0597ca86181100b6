import { toBase64 } from "../lib/base64";
import { secretKeyBytes } from "./secrets";

/**
 * The Standard Webhooks (v1) headers of one delivery attempt: `webhook-id` stays the event's id on every retry (the
 * receiver's idempotency key); `webhook-timestamp` is this attempt's time, since verifiers refuse old timestamps;
 * `webhook-signature` lists a `v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>` per secret, space-separated, so
 * the old and new secrets both sign while a rotation's grace period lasts.
 */
export async function webhookHeaders(secrets: string[], id: string, timestampSeconds: number, body: string) {
  const content = new TextEncoder().encode(`${id}.${timestampSeconds}.${body}`);
  const signatures = await Promise.all(
    secrets.map(async (secret) => {
      const key = await crypto.subtle.importKey(
        "raw",
        secretKeyBytes(secret),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign"],
      );
      return `v1,${toBase64(new Uint8Array(await crypto.subtle.sign("HMAC", key, content)))}`;
    }),
  );
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": signatures.join(" "),
  };
}
