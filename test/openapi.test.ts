/**
 * The admin API's OpenAPI document: served at /admin/openapi.json behind the admin key, covering every route the
 * admin API serves with its request body and its responses. Every admin response of every test is checked against
 * it (test/support/openapi.ts); test/node/openapi.test.ts checks that it is what the routes describe, and valid
 * OpenAPI 3.1.
 */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { adminRouter } from "../src/http/admin/router";
import { request, workerFetch } from "./support/http";
import { adminDocument } from "./support/openapi";

interface Operation {
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
}

/** The served document (fetched directly: it does not describe itself, so admin() has nothing to check it against). */
const served = async () =>
  (await workerFetch(request("GET", "/admin/openapi.json", { auth: `Bearer ${env.ADMIN_API_KEY}` }))).json<{
    paths: Record<string, Record<string, Operation>>;
  }>();

it("is served behind the admin key: the file built from the routes", async () => {
  expect((await workerFetch(request("GET", "/admin/openapi.json"))).status).toBe(401);
  expect(await served()).toEqual(adminDocument);
});

it("describes every route the admin API serves, each with its responses and the error shape", async () => {
  const doc = await served();
  const routes = adminRouter.routes.filter((r) => r.method !== "ALL");
  const templates = new Set(routes.map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`));
  const described = new Set(
    Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`)),
  );
  expect(described).toEqual(templates);
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const success = Object.keys(operation.responses).filter((s) => s.startsWith("2"));
      expect(success, `${method} ${path}`).toHaveLength(1);
      for (const status of ["400", "401", "500", "503"])
        expect(operation.responses[status], `${method} ${path}`).toBeDefined();
      const body = operation.responses[success[0] as string]?.content?.["application/json"]?.schema;
      // A JSON answer is described field by field, closed to fields it does not name: an empty schema cannot pass.
      // One of several shapes (told apart by a field) is each of them so.
      const shapes = (body?.oneOf as unknown[] | undefined) ?? (body ? [body] : []);
      for (const shape of shapes) {
        expect(shape, `${method} ${path}`).toMatchObject({ type: "object", additionalProperties: false });
      }
    }
  }
});

it("describes the body of every route that takes one, from the schema that validates it", async () => {
  const doc = await served();
  const post = doc.paths["/tenants"]?.post;
  expect(post?.requestBody).toMatchObject({
    content: { "application/json": { schema: { properties: { name: { type: "string", maxLength: 200 } } } } },
  });
  const withBodies = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => method === "post" || method === "patch")
      .map(([method, operation]) => [`${method} ${path}`, operation.requestBody !== undefined] as const),
  );
  expect(withBodies.filter(([, has]) => !has)).toEqual([]);
});
