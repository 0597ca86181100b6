/**
 * One structured log line per request, with its id on the response: route template (never the path's values or
 * query), status, tenant, duration and what D1 cost.
 */

import { expect, it } from "vitest";
import { createUserBody, userPatches } from "./fixtures/entra";
import { placementOf } from "./support/databases";
import { admin, createTenant, fetchWith, scim } from "./support/http";
import { logged } from "./support/request-log";

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
    route: "/scim/v2/:tenantId/i/:integrationId/Users",
    status: 200,
    tenantId: tenant.tenantId,
    // Only the tenant's data database: the grant routed the request, the control database was not read.
    databases: [await placementOf(tenant.tenantId)],
    d1: { calls: 1, rowsWritten: 0 },
  });
  expect(typeof line?.durationMs).toBe("number");
  expect(JSON.stringify(line)).not.toContain("secret.person");
  expect(JSON.stringify(line)).not.toContain(tenant.token);
});

it("counts a write's rows, logs failures and refusals too, and uses Cloudflare's ray id when there is one", async () => {
  const tenant = await createTenant("Written");
  const created = await logged(() => scim(tenant, "POST", "/Users", { body: { userName: "w@x.example" }, fetch }));
  expect(created.lines[0]).toMatchObject({ status: 201, route: "/scim/v2/:tenantId/i/:integrationId/Users" });
  expect((created.lines[0]?.d1 as { rowsWritten: number } | undefined)?.rowsWritten).toBeGreaterThan(0);

  const refused = await logged(() => scim({ ...tenant, token: "scimtok_nope" }, "GET", "/Users", { fetch }));
  expect(refused.lines[0]).toMatchObject({ status: 401, tenantId: tenant.tenantId });

  const ray = "8f00ba5c1d2e3f40-LHR";
  const rayed = await logged(() => admin("GET", "/tenants", { fetch, headers: { "cf-ray": ray } }));
  expect(rayed.response.headers.get("X-Request-Id")).toBe(ray);
  expect(rayed.lines[0]).toMatchObject({ requestId: ray, route: "/admin/tenants", status: 200 });
  // A client's own "ray id" is not taken for one.
  const forged = await logged(() => admin("GET", "/tenants", { fetch, headers: { "cf-ray": "forged-by-a-client" } }));
  expect(forged.response.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
});

it("logs unknown routes and failures too, each with its id on the response", async () => {
  const missing = await logged(() => admin("GET", "/no-such-route", { fetch }));
  expect(missing.response.status).toBe(404);
  expect(missing.lines).toHaveLength(1);
  expect(missing.lines[0]?.requestId).toBe(missing.response.headers.get("X-Request-Id"));
  const page = await logged(() => fetch(new Request("https://scim.test/portal/nope")));
  expect(page.lines[0]).toMatchObject({ status: 404 });
  expect(page.response.headers.get("X-Request-Id")).toBe(page.lines[0]?.requestId);
});

it("logs Entra's PATCH dialects at one D1 call each, their write included (scim/patch-plan.ts)", async () => {
  const tenant = await createTenant("Patched");
  const created = await scim(tenant, "POST", "/Users", { body: createUserBody("logged"), fetch });
  const { id } = await created.json<{ id: string }>();
  // Deactivation and reactivation as two requests: in one, they would leave the user as it was (no write).
  const dialects: Record<string, unknown[]> = {
    ...Object.fromEntries(
      Object.entries(userPatches.deactivation).flatMap(([dialect, [off, on]]) => [
        [`${dialect}: deactivate`, [off]],
        [`${dialect}: reactivate`, [on]],
      ]),
    ),
    "work email and family name": userPatches.workEmailAndFamilyName,
    "one replace each": userPatches.oneReplaceEach,
    "path-less keys are paths": userPatches.pathlessKeysArePaths,
    "URN-qualified enterprise attributes": userPatches.enterprise,
  };
  for (const [dialect, operations] of Object.entries(dialects)) {
    const { lines } = await logged(() =>
      scim(tenant, "PATCH", `/Users/${id}`, { body: { Operations: operations }, fetch }),
    );
    expect(lines[0], dialect).toMatchObject({ status: 200, d1: { calls: 1 } });
    expect((lines[0]?.d1 as { rowsWritten?: number } | undefined)?.rowsWritten, dialect).toBeGreaterThan(0);
  }
});
