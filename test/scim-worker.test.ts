/**
 * The SCIM worker (src/scim-worker.ts) in front of the app worker: Entra's requests are answered by the SCIM
 * worker's own app; everything else reaches the app worker (here the real one, src/index.ts, behind the APP
 * binding, as wrangler dev and a deploy wire it) unchanged, and its answer comes back unchanged.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import scimWorker from "../src/scim-worker";
import { createTenant, type Fetch, request, scim, type TestTenant } from "./support/http";

/** The SCIM worker with the app worker behind APP (and its own bindings changed by `own`), and what reached it. */
function front(own: Partial<Env> = {}) {
  const passed: string[] = [];
  const APP = {
    fetch: (input: Request) => {
      passed.push(new URL(input.url).pathname);
      return exports.default.fetch(input);
    },
  } as Fetcher;
  const fetch: Fetch = async (req) => {
    const ctx = createExecutionContext();
    const response = await scimWorker.fetch(
      req as Parameters<typeof scimWorker.fetch>[0],
      { ...env, ...own, APP },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return response;
  };
  return { fetch, passed };
}

describe("the SCIM worker in front of the app worker", () => {
  let tenant: TestTenant;
  beforeAll(async () => {
    tenant = await createTenant("Front");
  });

  it("answers Entra's SCIM requests itself: a create and its read, nothing passed on", async () => {
    const { fetch, passed } = front();
    const created = await scim(tenant, "POST", "/Users", { body: { userName: "front@contoso.com" }, fetch });
    expect(created.status).toBe(201);
    const { id } = await created.json<{ id: string }>();
    const read = await scim(tenant, "GET", `/Users/${id}`, { fetch });
    expect(await read.json()).toMatchObject({ id, userName: "front@contoso.com" });
    expect(passed).toEqual([]);
  });

  it("answers the token endpoint itself", async () => {
    const { fetch, passed } = front();
    const res = await fetch(request("POST", "/oauth2/token", { body: "grant_type=client_credentials" }));
    expect(res.status).toBe(400);
    expect(passed).toEqual([]);
  });

  it("passes the admin API, the portal and the console on, and hands back their answers", async () => {
    const { fetch, passed } = front();
    const tenants = await fetch(request("GET", "/admin/tenants", { auth: `Bearer ${env.ADMIN_API_KEY}` }));
    expect(tenants.status).toBe(200);
    expect(await tenants.json()).toHaveProperty("items");
    const page = await fetch(request("GET", "/console"));
    expect(page.headers.get("Content-Type")).toContain("text/html");
    const missing = await fetch(request("GET", "/nowhere"));
    expect(missing.status).toBe(404);
    expect(passed).toEqual(["/admin/tenants", "/console", "/nowhere"]);
  });

  it("keeps its SCIM errors in SCIM's form, under its own surface", async () => {
    const { fetch, passed } = front();
    const res = await fetch(request("GET", `/scim/v2/${tenant.tenantId}/Nothing`, { auth: `Bearer ${tenant.token}` }));
    expect(res.status).toBe(404);
    expect(res.headers.get("Content-Type")).toContain("application/scim+json");
    expect(passed).toEqual([]);
  });

  it("without its signing keys (deployed before they were put on it), passes SCIM on too: nothing breaks", async () => {
    const { fetch, passed } = front({ TOKEN_SIGNING_KEYS: undefined });
    const res = await scim(tenant, "GET", "/Users?count=0", { fetch });
    expect(res.status).toBe(200);
    expect(passed).toEqual([`/scim/v2/${tenant.tenantId}/Users`]);
  });
});
