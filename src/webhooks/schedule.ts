/**
 * When a failed delivery is tried again: the Standard Webhooks recommendation (5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
 * 14 h, 20 h, 24 h after each failure, about three days in all), each delay with ±10 % jitter so endpoints that
 * failed together are not retried together. Longer than one queue message can wait (MAX_MESSAGE_DELAY_SECONDS): the
 * consumer waits in several hops, each message finding the delivery not yet due and waiting again.
 */
export const RETRY_DELAYS_SECONDS = [5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400] as const;
/** Attempts in all: the first, then one per delay. */
export const MAX_ATTEMPTS = RETRY_DELAYS_SECONDS.length + 1;
/** The most a Retry-After can push an attempt back. */
const MAX_DELAY_SECONDS = 86_400;
/** The longest delay Cloudflare Queues accepts for one message (send or retry): 12 hours. */
export const MAX_MESSAGE_DELAY_SECONDS = 43_200;

/**
 * Seconds until the next attempt after `attempts` failed ones, or null when the delivery is out of attempts. A
 * `Retry-After` the receiver sent (429, 503) is honoured when it asks for longer.
 */
export function nextDelaySeconds(attempts: number, retryAfterSeconds: number | null, random = Math.random) {
  const base = RETRY_DELAYS_SECONDS[attempts - 1];
  if (base === undefined) return null;
  const jittered = Math.round(base * (0.9 + 0.2 * random()));
  return Math.min(MAX_DELAY_SECONDS, Math.max(1, jittered, retryAfterSeconds ?? 0));
}

/** `Retry-After` as seconds (delta-seconds or an HTTP date), or null when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now: number): number | null {
  if (!header) return null;
  if (/^\d{1,9}$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}
