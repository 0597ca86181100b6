#!/usr/bin/env node
// `npm run dev`: local D1 migrated, the secrets in .dev.vars (admin key, token signing key, webhook sealing key)
// and webhooks to local http receivers allowed, a demo tenant with its integration; prints a fresh token, a portal
// setup link and the console's address; `wrangler dev` on 127.0.0.1:8787 with both workers (the SCIM worker in
// front, the app worker behind it) and their queues (extra arguments go to wrangler).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { removeDevOrigin, writeDevOrigin } from "./lib/dev-origin.mjs";
import { writeLocalConfigs } from "./lib/local-worker.mjs";
import { migrateAll } from "./migrate.mjs";

const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const wrangler = "node_modules/.bin/wrangler";
const args = process.argv.slice(2);
const portArg = args.indexOf("--port");
const port = portArg >= 0 ? args[portArg + 1] : "8787";
const persistArg = args.indexOf("--persist-to");
// Named explicitly: wrangler's default state folder is beside the config, and the local configs are not where
// wrangler.toml is (the migrations, `npm run db:migrate:local` and `wrangler d1 execute --local` use .wrangler/state).
const persist = ["--persist-to", persistArg >= 0 ? args[persistArg + 1] : join(".wrangler", "state")];

// Every database (control and data), as `npm run db:migrate:local` does.
try {
  console.log(`D1: ${migrateAll("--local", persist, env).join(", ")}`);
} catch (error) {
  console.error(error.message);
  process.exit(1);
}

const adminKey = ensureSecret("ADMIN_API_KEY", "adm_");
ensureSecret("TOKEN_SIGNING_KEYS", "tsk_");
ensureSecret("WEBHOOK_SECRETS_KEY", "whk_");
// Local receivers (`npm run events:tail`) listen on http://127.0.0.1; deployed endpoints must be https. It is never
// declared in wrangler.toml: it goes into the local configs only.
const allowHttp = ensureDevVar("WEBHOOKS_ALLOW_HTTP", () => "true");
// The SCIM worker and the app worker (src/scim-worker.ts), as deployed: the first answers on the port and passes on
// what is not Entra's. Both take .dev.vars as variables of their local configs.
const configs = writeLocalConfigs(join(".wrangler", "dev"), {
  vars: { ...devVars(), WEBHOOKS_ALLOW_HTTP: allowHttp },
});
const dev = spawn(
  wrangler,
  [
    "dev",
    ...configs.flatMap((config) => ["--config", config]),
    "--ip",
    "127.0.0.1",
    "--port",
    port,
    ...persist,
    ...args.filter(
      (a, i) => !["--port", "--persist-to"].includes(a) && !["--port", "--persist-to"].includes(args[i - 1]),
    ),
  ],
  {
    env,
    stdio: ["inherit", "inherit", "inherit"],
  },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code) => {
  removeDevOrigin();
  process.exit(code ?? 0);
});

const origin = `http://127.0.0.1:${port}`;
await waitForServer(origin);
// For `npm run events:tail` beside it, whatever the port.
writeDevOrigin(origin);
await setUpDemo(origin, adminKey);

/** A secret in .dev.vars: kept when set (and not the example's `change-me`), otherwise written as a random value. */
function ensureSecret(name, prefix) {
  return ensureDevVar(name, () => `${prefix}${randomBytes(24).toString("base64url")}`);
}

/** Every variable .dev.vars holds, read as wrangler reads it (dotenv: quotes, comments, `export`). */
function devVars() {
  return existsSync(".dev.vars") ? parseEnv(readFileSync(".dev.vars", "utf8")) : {};
}

/** A variable in .dev.vars: kept when set (and not `change-me`), otherwise written with the value `make` gives. */
function ensureDevVar(name, make) {
  const text = existsSync(".dev.vars") ? readFileSync(".dev.vars", "utf8") : "";
  const current = new RegExp(`^${name}=(.+)$`, "m").exec(text)?.[1]?.trim();
  if (current && current !== "change-me") return current;
  const value = make();
  const rest = text.replace(new RegExp(`^${name}=.*\n?`, "m"), "");
  writeFileSync(".dev.vars", `${rest}${rest && !rest.endsWith("\n") ? "\n" : ""}${name}=${value}\n`);
  return value;
}

async function waitForServer(url) {
  for (let i = 0; i < 120; i++) {
    try {
      // A public asset: probing an admin route would log a 401 at every start.
      await fetch(`${url}/portal/assets/icon.svg`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error("wrangler dev did not start within 60 s");
}

/** Idempotent: reuses the tenant named "Demo", creates its integration once, and issues a fresh token each start. */
async function setUpDemo(url, key) {
  const call = async (method, path, body) => {
    const res = await fetch(`${url}/admin${path}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: res.status === 204 ? null : await res.json() };
  };
  let tenant;
  let cursor = null;
  do {
    const page = await call("GET", `/tenants?limit=200${cursor ? `&cursor=${cursor}` : ""}`);
    tenant = page.body.items.find((t) => t.name === "Demo");
    cursor = page.body.nextCursor;
  } while (!tenant && cursor);
  tenant ??= (await call("POST", "/tenants", { name: "Demo", azureAdEnabled: true })).body;
  let issued = await call("POST", `/tenants/${tenant.id}/integrations/azure-ad`, {});
  if (issued.status === 409) issued = await call("POST", `/tenants/${tenant.id}/integrations/azure-ad/token`, {});
  if (issued.status !== 201) throw new Error(`could not issue a demo token: ${JSON.stringify(issued.body)}`);
  // An hour rather than the default 5 minutes: time to start reading before opening it.
  const link = await call("POST", `/tenants/${tenant.id}/portal-links`, { ttlSeconds: 3600 });
  if (link.status !== 201) throw new Error(`could not mint a setup link: ${JSON.stringify(link.body)}`);
  console.log(`
┌ Local SCIM service ready
│ Admin API key : ${key}
│ Demo tenant   : ${tenant.id} (data in ${tenant.database}; GET /admin/databases lists them)
│ Tenant URL    : ${issued.body.scimBaseUrl}
│ Secret Token  : ${issued.body.token}
│ Console       : ${url}/console   (sign in with the admin API key)
│ Setup link    : ${link.body.url}
│                 (the customer's portal: works once, for an hour; mint more with POST /admin/tenants/{id}/portal-links)
│
│ curl -H "Authorization: Bearer ${issued.body.token}" "${issued.body.scimBaseUrl}/Users?filter=userName+eq+%22x%22"
│ Watch changes arrive as signed webhooks: npm run events:tail   (in another terminal)
└ (a new token is issued at every start; the previous one stops working)
`);
}
