import { Hono } from "hono";
import type { AppEnv } from "../../env";
import openApiText from "./openapi.json";
import { adminRouter } from "./router";

// wrangler.toml's module rule imports the document as its text (TypeScript can only type a JSON import as its value);
// anything else would serve "[object Object]", so a bundle without the rule fails at once.
if (typeof openApiText !== "string") throw new Error("openapi.json must be imported as text (wrangler.toml [[rules]])");
/** The document, as served. */
export const OPENAPI_DOCUMENT: string = openApiText;

/**
 * The admin API as served: its routes, and `GET /admin/openapi.json`, their OpenAPI 3.1 description built ahead of
 * time (http/admin/openapi-document.ts, `npm run docs:openapi`). The document's route lives here, apart from the
 * routes it describes, so that building the document never loads the file it writes. Behind the admin key like the
 * rest of /admin (adminRouter's first middleware covers every path under it): it lists every operator capability, and
 * only holders of the key can use any of them.
 */
export const adminApi = new Hono<AppEnv>()
  .route("/", adminRouter)
  .get("/openapi.json", (c) => c.body(OPENAPI_DOCUMENT, 200, { "Content-Type": "application/json" }));
