// The admin API's OpenAPI document (src/http/admin/openapi.ts), generated here in Node as the Worker generates it,
// checked against the OpenAPI 3.1 schema. Its coverage and the responses it describes are checked in the Workers
// runtime (test/openapi.test.ts, and every admin response of every test through test/support/http.ts).
import { Validator } from "@seriousme/openapi-schema-validator";
import { generateSpecs } from "hono-openapi";
import { expect, it } from "vitest";
import { DOCUMENTATION } from "../../src/http/admin/openapi";
import { adminRouter } from "../../src/http/admin/router";

it("is a valid OpenAPI 3.1 document", async () => {
  const doc = await generateSpecs(adminRouter, { documentation: DOCUMENTATION, exclude: ["/openapi.json"] });
  expect(doc.openapi).toBe("3.1.0");
  const validator = new Validator();
  const result = await validator.validate(doc as never);
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
  expect(Object.keys(doc.paths ?? {}).length).toBeGreaterThan(15);
  // The validator is not a formality: a document missing its info fails.
  expect((await new Validator().validate({ ...doc, info: undefined } as never)).valid).toBe(false);
});

/** Every place in `node` where a schema is `{}` (accepts anything), by its path. */
function emptySchemas(node: unknown, path: string[] = []): string[] {
  if (typeof node !== "object" || node === null) return [];
  const here = !Array.isArray(node) && Object.keys(node).length === 0 && path.at(-1) !== "additionalProperties";
  return [
    ...(here ? [path.join(".")] : []),
    ...Object.entries(node).flatMap(([key, child]) => emptySchemas(child, [...path, key])),
  ];
}

it("describes every field: no schema the conversion could not express became one that accepts anything", async () => {
  const doc = await generateSpecs(adminRouter, { documentation: DOCUMENTATION, exclude: ["/openapi.json"] });
  // `security: [{ adminKey: [] }]` holds an empty list, not a schema; free-form objects (an event's `data`, an audit
  // row's `detail`) are `additionalProperties: {}`, which the walk allows.
  expect(emptySchemas(doc.paths)).toEqual([]);
});
