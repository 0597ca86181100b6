import { Validator } from "@cfworker/json-schema";
import { OPENAPI_DOCUMENT } from "../../src/http/admin/api";

/**
 * Every admin response a test receives is checked against the OpenAPI document the worker serves: the schema of its
 * route, method and status. A status the document does not list for the route, or a body that does not match, fails
 * the test that got it. @cfworker/json-schema: a validator that runs in workerd (no code generation).
 */

interface Operation {
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Record<string, unknown>> };
}

/**
 * The document the worker serves at `GET /admin/openapi.json` (test/openapi.test.ts), which is what the routes
 * describe (test/node/openapi.test.ts).
 */
export const adminDocument = JSON.parse(OPENAPI_DOCUMENT) as Document;

/**
 * The document's path template that matches `path` (under /admin), the most literal one when several do, among those
 * serving `method` when any does (`/integrations/azure-ad` has no PATCH: `/integrations/{integrationId}` serves it).
 */
function templateOf(doc: Document, method: string, path: string) {
  const all = Object.keys(doc.paths).filter((template) =>
    new RegExp(`^/admin${template.replace(/\{[^}]+\}/g, "[^/]+")}$`).test(path),
  );
  const serving = all.filter((template) => doc.paths[template]?.[method.toLowerCase()] !== undefined);
  const matching = serving.length > 0 ? serving : all;
  const literal = (t: string) => t.split("/").filter((s) => !s.startsWith("{")).length;
  return matching.sort((a, b) => literal(b) - literal(a))[0];
}

/** Throws when the response is not what the document says this route answers. */
export async function checkAdminResponse(method: string, url: string, response: Response) {
  const path = new URL(url).pathname;
  const doc = adminDocument;
  const template = templateOf(doc, method, path);
  const operation = template === undefined ? undefined : doc.paths[template]?.[method.toLowerCase()];
  if (operation === undefined) {
    // No such route: the admin API's 404 in its error shape.
    if (response.status !== 404) throw new Error(`${method} ${path} is not in the OpenAPI document`);
    return validate(doc.components.schemas.Error as Record<string, unknown>, response, `${method} ${path}`);
  }
  const described = operation.responses[String(response.status)];
  if (!described)
    throw new Error(`${method} ${template} answered ${response.status}, which the document does not list`);
  const type = response.headers.get("Content-Type") ?? "";
  if (!type.startsWith("application/json")) {
    if (response.status !== 204 && !described.content?.[type.split(";")[0] ?? ""]) {
      throw new Error(`${method} ${template} answered ${type}, which the document does not list`);
    }
    return;
  }
  let schema = described.content?.["application/json"]?.schema;
  if (!schema) throw new Error(`${method} ${template} ${response.status} has no JSON schema in the document`);
  if (schema.$ref === "#/components/schemas/Error") schema = doc.components.schemas.Error as Record<string, unknown>;
  await validate(schema, response, `${method} ${template}`);
}

async function validate(schema: Record<string, unknown>, response: Response, what: string) {
  const result = new Validator(schema as never, "2020-12", false).validate(await response.clone().json());
  if (!result.valid) {
    const errors = result.errors.map((e) => `${e.instanceLocation}: ${e.error}`).join("; ");
    throw new Error(`${what} ${response.status} does not match the document: ${errors}`);
  }
}
