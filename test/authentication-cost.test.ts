/**
 * What a request costs before it is authenticated (defect: every forged token, setup link or session cookie cost a
 * D1 query). Signed tokens, links and sessions are checked against their MAC first, so forgeries never reach storage;
 * unsigned tokens from before signing are bounded by the legacy limiter, and the pages by a limit per client address.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { csrfToken } from "../src/http/pages/sessions";
import { toBase64Url } from "../src/lib/base64";
import { REFUSED_TOKEN_MEMORY_MS } from "../src/services/authenticate";
import { hashToken } from "../src/tokens/token";
import { countingDatabases } from "./support/d1-intercept";
import { admin, createTenant, fetchWith, scim, type TestTenant } from "./support/http";
import { countingKv } from "./support/kv-intercept";
import { browser, consoleSignIn, mintLink, signIn, view } from "./support/portal";
import { logged } from "./support/request-log";
import { seedRows } from "./support/seed";

const d1 = countingDatabases();
const kv = countingKv(env.TOKENS);
const reset = () => {
  d1.reset();
  kv.counter.reads = 0;
};

/** A limiter stub allowing `allowed` calls, counting them all. */
function limiter(allowed: number) {
  const calls = { n: 0 };
  return { binding: { limit: async () => ({ success: ++calls.n <= allowed }) } as RateLimit, calls };
}

const counted = (bindings: Partial<Env> = {}, clock?: () => number) =>
  fetchWith({ clock, bindings: { ...d1.bindings, TOKENS: kv.kv, ...bindings } });

const randomChars = (n: number) =>
  Array.from(
    crypto.getRandomValues(new Uint8Array(n)),
    (b) => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[b % 64],
  ).join("");

let tenant: TestTenant;
let other: TestTenant;

beforeAll(async () => {
  tenant = await createTenant("Victim");
  other = await createTenant("Other");
});

const ROUTES = ["/Users", "/Users/x", "/Groups?filter=displayName+eq+%22x%22", "/ServiceProviderConfig", "/Schemas"];

describe("a forged or misplaced signed token costs no storage access", () => {
  it.each(ROUTES)("forged signed-shape tokens on %s: 401, no D1 call, no KV read", async (path) => {
    reset();
    const fetch = counted();
    for (let i = 0; i < 30; i++) {
      const res = await scim({ token: `scimtok_${randomChars(54)}`, base: tenant.base }, "GET", path, { fetch });
      expect(res.status).toBe(401);
    }
    expect(d1.cost.calls).toBe(0);
    expect(kv.counter.reads).toBe(0);
  });

  it("a real token on another tenant's URL: 401, no storage access", async () => {
    reset();
    const res = await scim({ token: other.token, base: tenant.base }, "GET", "/Users", { fetch: counted() });
    expect(res.status).toBe(401);
    expect(d1.cost.calls).toBe(0);
    expect(kv.counter.reads).toBe(0);
  });

  it("a token issued a moment ago works at once, KV or not, while forgeries flood the URL", async () => {
    const issued = await (
      await admin("POST", `/tenants/${tenant.tenantId}/integrations/azure-ad/token`, { body: {} })
    ).json<{
      token: string;
    }>();
    // As in a location KV has not reached yet.
    await env.TOKENS.delete(`token:${await hashToken(issued.token)}`);
    const fetch = counted({ LEGACY_AUTH_LIMITER: limiter(0).binding });
    for (let i = 0; i < 20; i++)
      await scim({ token: `scimtok_${randomChars(54)}`, base: tenant.base }, "GET", "/Users", { fetch });
    const res = await scim({ token: issued.token, base: tenant.base }, "GET", "/Users?count=0", { fetch });
    expect(res.status).toBe(200);
    tenant.token = issued.token;
  });

  it("a revoked signed token reaches D1 at most once per isolate per memory period", async () => {
    const t = await createTenant("Revoked");
    await admin("POST", `/tenants/${t.tenantId}/integrations/azure-ad/token`, { body: {} });
    const start = Date.now();
    reset();
    for (let i = 0; i < 10; i++) {
      const res = await scim(t, "GET", "/Users", { fetch: counted({}, () => start + i) });
      expect(res.status).toBe(401);
    }
    expect(d1.cost.calls).toBe(1);
    await scim(t, "GET", "/Users", { fetch: counted({}, () => start + REFUSED_TOKEN_MEMORY_MS + 1) });
    expect(d1.cost.calls).toBe(2);
  });
});

describe("unsigned tokens from before signing", () => {
  /** A token in the old format, stored as the old code stored it (row and KV grant). */
  async function legacyToken(t: TestTenant, inKv: boolean) {
    const token = `scimtok_${randomChars(43)}`;
    const hash = await hashToken(token);
    const id = crypto.randomUUID();
    const expiresAt = Date.now() + 86_400_000;
    await seedRows("access_tokens", [
      { id, tenant_id: t.tenantId, token_hash: hash, status: "active", created_at: Date.now(), expires_at: expiresAt },
    ]);
    if (inKv) await env.TOKENS.put(`token:${hash}`, JSON.stringify({ tenantId: t.tenantId, tokenId: id, expiresAt }));
    return token;
  }

  it("keep working: from KV without any D1 lookup, and from D1 within the legacy budget", async () => {
    const fromKv = await legacyToken(tenant, true);
    reset();
    expect(
      (await scim({ token: fromKv, base: tenant.base }, "GET", "/Users?count=0", { fetch: counted() })).status,
    ).toBe(200);
    const fromD1 = await legacyToken(tenant, false);
    const budget = limiter(5);
    const res = await scim({ token: fromD1, base: tenant.base }, "GET", "/Users?count=0", {
      fetch: counted({ LEGACY_AUTH_LIMITER: budget.binding }),
    });
    expect(res.status).toBe(200);
    expect(budget.calls.n).toBe(1);
  });

  it("forged ones cost D1 only within the legacy budget; beyond it 503 with Retry-After, never a D1 call", async () => {
    const budget = limiter(5);
    const fetch = counted({ LEGACY_AUTH_LIMITER: budget.binding });
    reset();
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await scim({ token: `scimtok_${randomChars(43)}`, base: tenant.base }, "GET", "/Users", { fetch });
      statuses.push(res.status);
      if (res.status === 503) expect(res.headers.get("Retry-After")).toBe("10");
    }
    expect(d1.cost.calls).toBe(5);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 503)).toHaveLength(25);
  });
});

describe("signing key rotation", () => {
  it("tokens signed with the previous key work while it is listed, and stop when it is dropped", async () => {
    const current = env.TOKEN_SIGNING_KEYS;
    const res = await scim(tenant, "GET", "/Users?count=0", {
      fetch: fetchWith({ bindings: { TOKEN_SIGNING_KEYS: `new-key,${current}` } }),
    });
    expect(res.status).toBe(200);
    const dropped = await scim(tenant, "GET", "/Users?count=0", {
      fetch: fetchWith({ bindings: { TOKEN_SIGNING_KEYS: "new-key" } }),
    });
    expect(dropped.status).toBe(401);
  });

  it("an access token issued before each purpose had its own key still authenticates", async () => {
    // Made as tokens were made then, independently of src/tokens: HMAC-SHA-256 under the configured secret itself,
    // over the tenant id, a dot and the random bytes, cut to 16 bytes. Such tokens sit in customers' IdPs.
    const random = crypto.getRandomValues(new Uint8Array(24));
    const secret = new TextEncoder().encode(env.TOKEN_SIGNING_KEYS);
    const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const message = new Uint8Array([...new TextEncoder().encode(`${tenant.tenantId}.`), ...random]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, message)).slice(0, 16);
    const token = `scimtok_${toBase64Url(new Uint8Array([...random, ...mac]))}`;
    const id = crypto.randomUUID();
    // In D1 only: the request goes the whole way, its MAC checked, then KV missed, then D1 read.
    await seedRows("access_tokens", [
      {
        id,
        tenant_id: tenant.tenantId,
        token_hash: await hashToken(token),
        status: "active",
        created_at: Date.now(),
        expires_at: Date.now() + 86_400_000,
      },
    ]);
    expect((await scim({ token, base: tenant.base }, "GET", "/Users?count=0")).status).toBe(200);
  });

  it("setup links and sessions made under the previous key work while it is listed, and stop when it is dropped", async () => {
    const rotating = fetchWith({ bindings: { TOKEN_SIGNING_KEYS: `new-key,${env.TOKEN_SIGNING_KEYS}` } });
    const rotated = fetchWith({ bindings: { TOKEN_SIGNING_KEYS: "new-key" } });
    const before = await signIn((await mintLink(tenant.tenantId)).url);
    const operator = await consoleSignIn();
    expect((await view(before, "/integrations", rotating)).status).toBe(200);
    expect((await rotating(browser("GET", "/console/tenants", { cookie: operator.cookie }))).status).toBe(200);
    // A link made under the previous key, redeemed during the rotation: its session is signed with the new one.
    const during = await signIn((await mintLink(tenant.tenantId)).url, rotating);
    expect((await view(during, "/integrations", rotated)).status).toBe(200);

    expect((await view(before, "/integrations", rotated)).status).toBe(404);
    expect((await rotated(browser("GET", "/console/tenants", { cookie: operator.cookie }))).status).toBe(303);
    expect((await rotated(browser("GET", (await mintLink(tenant.tenantId)).url))).status).toBe(410);
  });
});

describe("a forged setup link or session costs no storage access", () => {
  const pages = fetchWith({ bindings: { TOKENS: kv.kv } });
  /** What a forger can send: the shape of a value from before signing (43 characters), today's with a wrong MAC, junk. */
  const forgeries = () => [randomChars(43), randomChars(64), "forged"];
  /** A form post carrying the CSRF token a forger can derive from their own cookie. */
  const post = async (path: string, cookie: string, secret: string) =>
    browser("POST", path, { cookie, form: { csrf: await csrfToken(secret) } });

  /** The request's status, and what its line in the request log says it cost: no D1 call; and no KV read. */
  async function expectNoStorage(request: Request, status: number) {
    kv.counter.reads = 0;
    const { response, lines } = await logged(() => pages(request));
    expect(response.status, request.url).toBe(status);
    expect(lines.map((line) => [line.route, line.d1.calls])).toEqual([[expect.any(String), 0]]);
    expect(kv.counter.reads).toBe(0);
  }

  it("opening, continuing and redeeming a forged setup link: the expiry page, no D1 call", async () => {
    for (const secret of forgeries()) {
      const cookie = `portal_link=${secret}`;
      await expectNoStorage(browser("GET", `/portal/links/${secret}`), 410);
      await expectNoStorage(browser("GET", "/portal/continue", { cookie }), 410);
      await expectNoStorage(await post("/portal/sessions", cookie, secret), 410);
    }
  });

  it("a forged portal session, or another tenant's real one, on a tenant's pages: 404, no D1 call", async () => {
    const elsewhere = await signIn((await mintLink(other.tenantId)).url);
    for (const secret of [...forgeries(), elsewhere.cookie.split("=")[1] as string]) {
      const cookie = `portal_session=${secret}`;
      await expectNoStorage(browser("GET", `/portal/${tenant.tenantId}/integrations`, { cookie }), 404);
      await expectNoStorage(await post(`/portal/${tenant.tenantId}/sign-out`, cookie, secret), 404);
    }
    expect((await view(elsewhere, "/integrations")).status).toBe(200);
  });

  it("a forged console session, or a customer's real one: the sign-in form, no D1 call", async () => {
    const customer = await signIn((await mintLink(tenant.tenantId)).url);
    for (const secret of [...forgeries(), customer.cookie.split("=")[1] as string]) {
      const cookie = `console_session=${secret}`;
      await expectNoStorage(browser("GET", "/console", { cookie }), 200);
      await expectNoStorage(browser("GET", "/console/tenants", { cookie }), 303);
      await expectNoStorage(browser("GET", `/console/tenants/${tenant.tenantId}/integrations`, { cookie }), 303);
      await expectNoStorage(await post("/console/sign-out", cookie, secret), 403);
    }
    const operator = await consoleSignIn();
    expect((await pages(browser("GET", "/console/tenants", { cookie: operator.cookie }))).status).toBe(200);
  });
});

describe("the pages' limit per client address", () => {
  /** A browser's request as Cloudflare hands it to the worker: with the client's address. */
  const from = (address: string, request: Request) => {
    request.headers.set("CF-Connecting-IP", address);
    return request;
  };

  it("counts each address on each surface apart, refuses before any storage access, and leaves assets alone", async () => {
    const session = await signIn((await mintLink(tenant.tenantId)).url);
    const keys: string[] = [];
    const limiter: RateLimit = {
      limit: async ({ key }) => ({ success: keys.push(key) > 0 && key !== "portal:198.51.100.7" }),
    };
    const fetch = fetchWith({ bindings: { PAGE_RATE_LIMITER: limiter } });
    const page = browser("GET", `/portal/${tenant.tenantId}/integrations`, { cookie: session.cookie });

    const { response, lines } = await logged(() => fetch(from("198.51.100.7", page.clone())));
    expect(response.status).toBe(429);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
    const retryAfter = Number(response.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(lines[0]?.d1.calls).toBe(0);

    expect((await fetch(from("198.51.100.8", page.clone()))).status).toBe(200);
    expect((await fetch(from("198.51.100.7", browser("GET", "/console")))).status).toBe(200);
    expect((await fetch(from("198.51.100.7", browser("GET", "/portal/assets/portal.css")))).status).toBe(200);
    expect(keys).toEqual(["portal:198.51.100.7", "portal:198.51.100.8", "console:198.51.100.7"]);
  });

  it("as configured: one address flooding the portal is refused after a generous budget, the console and others not", {
    timeout: 30_000,
  }, async () => {
    // wrangler.toml's PAGE_RATE_LIMITER: 600 per 60 s. Counting windows are aligned to the clock, so a flood that
    // starts late in one passes what is left of it, then the next one's whole budget.
    const budget = 600;
    const fetch = fetchWith({});
    const flood = "203.0.113.9";
    let passed = 0;
    let refused: Response | undefined;
    while (!refused && passed <= 2 * budget) {
      const burst = await Promise.all(
        Array.from({ length: 50 }, () => fetch(from(flood, browser("GET", "/portal/links/forged")))),
      );
      refused = burst.find((res) => res.status === 429);
      passed += burst.filter((res) => res.status === 410).length;
    }
    expect(refused?.headers.get("Retry-After")).toMatch(/^\d+$/);
    expect(passed).toBeGreaterThanOrEqual(budget);
    expect((await fetch(from(flood, browser("GET", "/console")))).status).toBe(200);
    expect((await fetch(from("203.0.113.10", browser("GET", "/portal/links/forged")))).status).toBe(410);
  });
});
