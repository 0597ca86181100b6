// The SCIM worker's wrangler config (src/scim-worker.ts), derived from an app worker's config (wrangler.toml): every
// binding, variable and setting of the top level and of each environment, so the two workers can never disagree on
// one; no crons and no queue consumers (the app worker's), only the secret it reads, and the APP service binding to
// the app worker of the same environment.
// Written beside the app's config (relative paths stay valid, and .dev.vars is shared) by every script that runs or
// deploys the pair: `npm run dev`, the browser tests, the benchmarks, the conformance run and `npm run deploy`.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse } from "smol-toml";

export const SCIM_CONFIG = "wrangler.scim.json";
/** The secrets the SCIM worker reads: the token signing keys (authentication). */
export const SCIM_SECRETS = ["TOKEN_SIGNING_KEYS"];
/**
 * What the SCIM worker does not take of a level, everything else being copied as it is: its name and entry (its
 * own), the crons and the queues' consumers (the app worker's: each runs once), routes (the hostname is set on the
 * SCIM worker, not in wrangler.toml: docs/deploy.md) and the environments (derived one by one).
 */
export const LEFT_OUT = ["name", "main", "triggers", "routes", "route", "env"];

/** The SCIM worker's name beside the app worker's `name`. */
const scimWorkerName = (name) => `${name}-scim`;

function level(app) {
  // An environment without a name would get wrangler's default one, which the service binding could not name.
  if (!app.name) throw new Error("every environment of wrangler.toml names its worker (name = …)");
  const out = Object.fromEntries(Object.entries(app).filter(([key]) => !LEFT_OUT.includes(key)));
  out.name = scimWorkerName(app.name);
  if (app.queues) out.queues = app.queues.producers ? { producers: app.queues.producers } : {};
  if (app.secrets?.required) {
    out.secrets = { ...app.secrets, required: app.secrets.required.filter((s) => SCIM_SECRETS.includes(s)) };
  }
  out.services = [...(app.services ?? []), { binding: "APP", service: app.name }];
  return out;
}

/** The SCIM worker's config (as JSON) for the app worker's (wrangler.toml, parsed). */
export function scimWorkerConfig(app) {
  const top = { main: join(dirname(app.main), "scim-worker.ts"), ...level(app) };
  const env = Object.fromEntries(Object.entries(app.env ?? {}).map(([name, e]) => [name, level(e)]));
  return Object.keys(env).length > 0 ? { ...top, env } : top;
}

/** Writes the SCIM worker's config beside the app worker's (default wrangler.toml) and returns its path. */
export function writeScimWorkerConfig(appConfig = "wrangler.toml") {
  const path = join(dirname(appConfig), SCIM_CONFIG);
  writeFileSync(path, `${JSON.stringify(scimWorkerConfig(parse(readFileSync(appConfig, "utf8"))), null, 2)}\n`);
  return path;
}
