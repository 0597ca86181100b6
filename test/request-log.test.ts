/**
 * One structured log line per request, with its id on the response: route template (never the path's values or
 * query), status, tenant, duration and what D1 cost.
 */
import { afterEach, expect, it, vi } from "vitest";
import { admin, createTenant, fetchWith, scim } from "./support/http";

afterEach(() => vi.restoreAllMocks());

async function logged(send: () => Promise<Response>) {
  const lines: Record<string, unknown>[] = [];
  vi.spyOn(console, "log").mockImplementation((line: unknown) => {
    const parsed = JSON.parse(String(line)) as Record<string, unknown>;
    if (parsed.event === "request") lines.push(parsed);
  });
  const response = await send();
  vi.restoreAllMocks();
  return { response, lines };
}

const fetch = fetchWith({});

it("logs each request once with its id, template, status, tenant and D1 cost, and answers the id", async () => {
  const tenant = await createTenant("Logged");
  // The token's first use also records when it was last used (a second D1 call); warm it.
  await scim(tenant, "GET", "/Users?count=0", { fetch });
  const { response, lines } = await logged(() =>
    scim(tenant, "GET", '/Users?filter=userName+eq+"secret.person@x.example"', { fetch }),
  );
  expect(lines).toHaveLength(1);
  const [line] = lines;
  expect(line).toMatchObject({
    level: "info",
    requestId: response.headers.get("X-Request-Id"),
    method: "GET",
    route: "/scim/v2/:tenantId/Users",
    status: 200,
    tenantId: tenant.tenantId,
    d1: { calls: 1, statements: expect.any(Number), rowsRead: expect.any(Number), rowsWritten: expect.any(Number) },
  });
  expect(typeof line?.durationMs).toBe("number");
  expect(JSON.stringify(line)).not.toContain("secret.person");
  expect(JSON.stringify(line)).not.toContain(tenant.token);
});

it("counts a write's rows, logs failures and refusals too, and uses Cloudflare's ray id when there is one", async () => {
  const tenant = await createTenant("Written");
  const created = await logged(() => scim(tenant, "POST", "/Users", { body: { userName: "w@x.example" }, fetch }));
  expect(created.lines[0]).toMatchObject({ status: 201, route: "/scim/v2/:tenantId/Users" });
  expect(created.lines[0]?.d1).toMatchObject({ rowsWritten: expect.any(Number) });
  expect((created.lines[0]?.d1 as { rowsWritten: number } | undefined)?.rowsWritten).toBeGreaterThan(0);

  const refused = await logged(() => scim({ ...tenant, token: "scimtok_nope" }, "GET", "/Users", { fetch }));
  expect(refused.lines[0]).toMatchObject({ status: 401, tenantId: tenant.tenantId });

  const rayed = await logged(() => admin("GET", "/tenants", { fetch, headers: { "cf-ray": "8f00ba5-LHR" } }));
  expect(rayed.response.headers.get("X-Request-Id")).toBe("8f00ba5-LHR");
  expect(rayed.lines[0]).toMatchObject({ requestId: "8f00ba5-LHR", route: "/admin/tenants", status: 200 });
});
