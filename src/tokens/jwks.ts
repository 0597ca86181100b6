import type { JSONWebKeySet } from "jose";

/**
 * The signing keys of a federation's issuer (its JWKS URL), cached in the isolate and in KV (`jwks:<url>`), so a
 * token request never fetches them: an issuer publishes new keys ahead of using them, and a `kid` not in the cache
 * fetches them again, at most once a minute per URL (a forged kid cannot make the service hammer the issuer). When
 * the issuer cannot be reached, the keys cached keep working.
 */
interface Cached {
  keys: JSONWebKeySet;
  fetchedAt: number;
  /** The last fetch tried, failed or not: the once-a-minute throttle counts from it, freshness from `fetchedAt`. */
  triedAt?: number;
}

const memory = new Map<string, Cached>();
const MAX_REMEMBERED = 1000;
/** How long KV keeps a key set: long enough to ride out an issuer's outage; a new kid refreshes it sooner. */
const KV_TTL_SECONDS = 7 * 86_400;
/** Keys older than this are fetched again on their next use (issuers rotate over weeks). */
const FRESH_MS = 86_400_000;
/** At most one fetch a minute per URL for an unknown kid. */
const REFETCH_MS = 60_000;
/** The most bytes of a key set read. */
const MAX_JWKS_BYTES = 64 * 1024;
/** A key set fetch that takes longer fails (the keys cached keep working): a token request must not hang on it. */
const FETCH_TIMEOUT_MS = 5000;

const kvKey = (url: string) => `jwks:${url}`;

export interface JwksStores {
  kv: KVNamespace;
  now: number;
  fetch: typeof fetch;
}

async function fetchKeys(stores: JwksStores, url: string): Promise<Cached | null> {
  try {
    // No redirect is followed: the URL checked at registration is the one read (a 3xx is no key set).
    const res = await stores.fetch(url, {
      headers: { Accept: "application/json" },
      redirect: "manual",
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    if (!res.ok || Number(res.headers.get("Content-Length") ?? 0) > MAX_JWKS_BYTES) return null;
    const text = await res.text();
    if (new TextEncoder().encode(text).length > MAX_JWKS_BYTES) return null;
    const body = JSON.parse(text) as JSONWebKeySet;
    if (!Array.isArray(body.keys)) return null;
    const cached = { keys: { keys: body.keys }, fetchedAt: stores.now };
    await stores.kv.put(kvKey(url), JSON.stringify(cached), { expirationTtl: KV_TTL_SECONDS });
    return cached;
  } catch {
    return null;
  }
}

function remember(url: string, cached: Cached) {
  if (memory.size >= MAX_REMEMBERED) memory.clear();
  memory.set(url, cached);
  return cached;
}

/**
 * The issuer's keys, such that `kid` is among them when it can be: from the isolate, else KV, else the issuer; and
 * from the issuer again when `kid` is missing or the keys are a day old, unless that was tried within the minute.
 */
export async function keysFor(stores: JwksStores, url: string, kid: string): Promise<JSONWebKeySet | null> {
  let cached = memory.get(url) ?? null;
  if (!cached) {
    const stored = await stores.kv.get<Cached>(kvKey(url), "json");
    if (stored) cached = remember(url, stored);
  }
  const known = cached?.keys.keys.some((key) => key.kid === kid) ?? false;
  const stale = !cached || stores.now - cached.fetchedAt > FRESH_MS;
  const mayFetch = !cached || stores.now - (cached.triedAt ?? cached.fetchedAt) >= REFETCH_MS;
  if ((!known || stale) && mayFetch) {
    const fetched = await fetchKeys(stores, url);
    // A failed fetch keeps what was cached (as fresh as it was), and the next try waits its minute.
    cached = remember(
      url,
      fetched ?? { keys: cached?.keys ?? { keys: [] }, fetchedAt: cached?.fetchedAt ?? 0, triedAt: stores.now },
    );
  }
  return cached && cached.keys.keys.length > 0 ? cached.keys : null;
}
