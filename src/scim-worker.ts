import { createApp, isEntraPath } from "./app";

/**
 * The SCIM worker: what Microsoft Entra ID (and every other directory) calls, SCIM and the token endpoint, in a
 * script of its own, so a cold start on Entra's path fetches and parses only that (BENCHMARKS.md, "bundle"). Every
 * other path (the admin API, the portal, the console) goes on to the app worker (src/index.ts) through the APP
 * service binding: no network hop, and one public hostname. The crons and the queues' consumers are the app
 * worker's; this one only sends to the queues. Its wrangler config is derived from wrangler.toml
 * (scripts/lib/scim-worker.mjs), so the two never disagree on a binding.
 */
interface ScimWorkerEnv extends Env {
  APP: Fetcher;
}

const app = createApp();

export default {
  // Without the signing keys (a deployment from before the split, whose key only the app worker holds, until the
  // operator puts it here: docs/deploy.md) everything goes on to the app worker: slower to start, never broken.
  fetch: (request, env, ctx) =>
    env.TOKEN_SIGNING_KEYS && isEntraPath(new URL(request.url).pathname)
      ? app.fetch(request, env, ctx)
      : env.APP.fetch(request),
} satisfies ExportedHandler<ScimWorkerEnv>;
