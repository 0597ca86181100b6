import type { ControlDb } from "../db/client";
import { tenantIsListenedTo } from "../db/webhooks";

/**
 * Whether some webhook endpoint takes a tenant's events, as a write asks before telling the webhook queue: remembered
 * by the isolate for LISTENERS_MEMORY_MS, so a busy tenant's writes cost one control read a while between them, and a
 * tenant nobody listens to costs no queue message at all. An endpoint registered meanwhile elsewhere is told of the
 * tenant's writes by the webhook sweep (every five minutes) until this isolate asks again; what is owed to it is the
 * same either way (services/webhook-delivery.ts: owed from its registration on).
 */
export const LISTENERS_MEMORY_MS = 30_000;

/** Tenants remembered at most: beyond, the memory starts over (an isolate rarely serves this many tenants). */
const REMEMBERED = 10_000;

const remembered = new Map<string, { listened: boolean; until: number }>();

export async function isListenedTo(db: ControlDb, tenantId: string, now: number) {
  const known = remembered.get(tenantId);
  if (known && known.until > now) return known.listened;
  const listened = await tenantIsListenedTo(db, tenantId);
  if (remembered.size >= REMEMBERED) remembered.clear();
  remembered.set(tenantId, { listened, until: now + LISTENERS_MEMORY_MS });
  return listened;
}

/** Forgets what this isolate remembered: an endpoint was registered or changed here. */
export const forgetListeners = () => remembered.clear();
