// The admin API's OpenAPI document, built ahead of time from what the routes describe (src/http/admin/openapi-
// document.ts): the file the worker serves is that document (`npm run docs:openapi` writes it), and it is valid
// OpenAPI 3.1. Its coverage and the responses it describes are checked in the Workers runtime (test/openapi.test.ts,
// and every admin response of every test through test/support/http.ts).
import { Validator } from "@seriousme/openapi-schema-validator";
import { expect, it } from "vitest";
import { generateAdminDocument } from "../../src/http/admin/openapi-document";

const generated = generateAdminDocument();

it("is the file the worker serves, as the routes describe it now (`npm run docs:openapi` writes it)", async () => {
  await expect(`${JSON.stringify(await generated, null, 2)}\n`).toMatchFileSnapshot(
    "../../src/http/admin/openapi.json",
  );
});

it("is a valid OpenAPI 3.1 document", async () => {
  const doc = await generated;
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
  const doc = await generated;
  // `security: [{ adminKey: [] }]` holds an empty list, not a schema; free-form objects (an event's `data`, an audit
  // row's `detail`) are `additionalProperties: {}`, which the walk allows.
  expect(emptySchemas(doc.paths)).toEqual([]);
});
