// The SCIM worker's wrangler config (src/scim-worker.ts), derived from an app worker's config (wrangler.toml): the
// same databases, KV namespace, queues to send to, rate limits and variables at the top level and in every
// environment, so the two workers can never disagree on a binding; no crons and no queue consumers (the app
// worker's), only the secret it reads, and the APP service binding to the app worker of the same environment.
// Written beside the app's config (relative paths stay valid, and .dev.vars is shared) by every script that runs or
// deploys the pair: `npm run dev`, the browser tests, the benchmarks, the conformance run and `npm run deploy`.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse } from "smol-toml";

export const SCIM_CONFIG = "wrangler.scim.json";
/** The secrets the SCIM worker reads: the token signing keys (authentication). */
export const SCIM_SECRETS = ["TOKEN_SIGNING_KEYS"];
/** What each level (the top and every environment) carries over as it is. */
const KEPT = ["vars", "d1_databases", "kv_namespaces", "ratelimits"];

/** The SCIM worker's name beside the app worker's `name`. */
export const scimWorkerName = (name) => `${name}-scim`;

function level(app) {
  // An environment without a name would get wrangler's default one, which the service binding could not name.
  if (!app.name) throw new Error("every environment of wrangler.toml names its worker (name = …)");
  const out = { name: scimWorkerName(app.name) };
  for (const key of KEPT) if (app[key] !== undefined) out[key] = app[key];
  if (app.queues?.producers) out.queues = { producers: app.queues.producers };
  if (app.secrets?.required) out.secrets = { required: app.secrets.required.filter((s) => SCIM_SECRETS.includes(s)) };
  out.services = [{ binding: "APP", service: app.name }];
  return out;
}

/** The SCIM worker's config (as JSON) for the app worker's (wrangler.toml, parsed). */
export function scimWorkerConfig(app) {
  const main = join(dirname(app.main), "scim-worker.ts");
  const top = {
    main,
    compatibility_date: app.compatibility_date,
    ...(app.send_metrics === undefined ? {} : { send_metrics: app.send_metrics }),
    ...(app.minify === undefined ? {} : { minify: app.minify }),
    ...(app.alias ? { alias: app.alias } : {}),
    ...(app.observability ? { observability: app.observability } : {}),
    ...level(app),
  };
  const env = Object.fromEntries(Object.entries(app.env ?? {}).map(([name, e]) => [name, level(e)]));
  return Object.keys(env).length > 0 ? { ...top, env } : top;
}

/** Writes the SCIM worker's config beside the app worker's (default wrangler.toml) and returns its path. */
export function writeScimWorkerConfig(appConfig = "wrangler.toml") {
  const path = join(dirname(appConfig), SCIM_CONFIG);
  writeFileSync(path, `${JSON.stringify(scimWorkerConfig(parse(readFileSync(appConfig, "utf8"))), null, 2)}\n`);
  return path;
}
