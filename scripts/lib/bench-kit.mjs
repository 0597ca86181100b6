// Shared by `npm run bench` and `npm run bench:peer`: bulk seed SQL for our D1 and the autocannon measurement loop.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import autocannon from "autocannon";
import { adminCall } from "./local-worker.mjs";

export const RUNS = Number(process.env.BENCH_RUNS ?? 3);
export const DURATION = Number(process.env.BENCH_SECONDS ?? 3);
export const CONNECTIONS = 10;

/**
 * Wrangler configs in `dir`: the real wrangler.toml with absolute paths (the entry point, migrations and `[alias]`
 * targets) and the rate limit out of the way (a
 * benchmark measures the code, not the budget), and the floor worker on the same local D1.
 */
export function writeBenchConfigs(dir) {
  const root = resolve(".");
  const main = join(dir, "wrangler.toml");
  writeFileSync(
    main,
    readFileSync("wrangler.toml", "utf8")
      .replace('main = "src/index.ts"', `main = "${root}/src/index.ts"`)
      .replaceAll('= "./src/', `= "${root}/src/`)
      .replaceAll('migrations_dir = "migrations"', `migrations_dir = "${root}/migrations"`)
      .replace(/simple = \{ limit = \d+, period = (\d+) \}/, "simple = { limit = 100000000, period = $1 }"),
  );
  const floor = join(dir, "floor.toml");
  writeFileSync(
    floor,
    `name = "bench-floor"\nmain = "${root}/bench/floor-worker.ts"\ncompatibility_date = "2026-04-20"\n\n` +
      `[[d1_databases]]\nbinding = "DB"\ndatabase_name = "edge-scim"\ndatabase_id = "00000000-0000-0000-0000-000000000000"\n\n` +
      `[[kv_namespaces]]\nbinding = "GRANTS"\nid = "00000000000000000000000000000001"\n\n` +
      `[[ratelimits]]\nname = "LIMITER"\nnamespace_id = "2001"\nsimple = { limit = 100000000, period = 10 }\n`,
  );
  return { main, floor };
}

/** The benchmark worker's secrets (local only). */
export const BENCH_SECRETS = {
  ADMIN_API_KEY: "bench",
  TOKEN_SIGNING_KEYS: "bench-signing-key",
  WEBHOOK_SECRETS_KEY: "bench-webhook-secrets-key",
};

/**
 * A tenant with `users` users as one SQL script (recursive CTE): user n has id `<name>-u<n>`, userName
 * `user<n>@Bench.Example`, externalId `ext<n>`. Its token comes from the admin API once the worker runs
 * (issueBenchToken), so benchmarks authenticate exactly as Entra does.
 */
export function seedTenant(name, users) {
  const now = Date.now();
  const doc = (folded) =>
    `json_object('userName', 'user' || n || '@${folded ? "bench.example" : "Bench.Example"}', 'externalId', 'ext' || n, ` +
    `'displayName', '${folded ? "user" : "User"} ' || n, 'emails', json_array(json_object('type', 'work', 'value', 'user' || n || '@bench.example')))`;
  const sql = `
INSERT INTO tenants (id, name, azure_ad_enabled, created_at, updated_at) VALUES ('${name}', '${name}', 1, ${now}, ${now});
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${users})
INSERT INTO users (id, tenant_id, user_name, user_name_key, external_id, display_name_key, work_email_key, active, managed_by, data, folded, version, created_at, updated_at)
SELECT '${name}-u' || n, '${name}', 'user' || n || '@Bench.Example', 'user' || n || '@bench.example', 'ext' || n, 'user ' || n,
  'user' || n || '@bench.example', 1, 'azure-ad', ${doc(false)}, ${doc(true)}, 1, ${now} + n, ${now} + n FROM seq;`;
  return { name, token: "", users, sql, base: `/scim/v2/${name}` };
}

/** Walks a tenant's change feed from `after` to its end: how many events, and the cursor to continue from. */
export async function feedFrom(origin, tenant, after) {
  let cursor = after;
  let events = 0;
  for (;;) {
    const page = await adminCall(
      origin,
      BENCH_SECRETS.ADMIN_API_KEY,
      "GET",
      `/tenants/${tenant.name}/events?limit=1000${cursor === undefined ? "" : `&after=${cursor}`}`,
    );
    events += page.items.length;
    cursor = page.nextCursor;
    if (page.items.length === 0) return { events, cursor };
  }
}

/** Creates the seeded tenant's integration through the admin API and keeps its signed token. */
export async function issueBenchToken(origin, tenant) {
  const issued = await adminCall(
    origin,
    BENCH_SECRETS.ADMIN_API_KEY,
    "POST",
    `/tenants/${tenant.name}/integrations/azure-ad`,
    {},
  );
  tenant.token = issued.token;
}

export const random = (max) => 1 + Math.floor(Math.random() * max);

/** Load that is not measured: the first seconds after a start pay for JIT warm-up and cold storage pages. */
export async function warmUp(origin, requests, headers = {}) {
  await measure(origin, requests, headers, { runs: 1, duration: 2 });
}

/** Median req/s of RUNS short autocannon runs; any non-2xx response fails the benchmark (it would measure errors). */
export async function measure(origin, requests, headers = {}, { runs = RUNS, duration = DURATION, tally } = {}) {
  const rates = [];
  for (let run = 0; run < runs; run++) {
    // A request's own headers replace autocannon's defaults, so authentication is merged into each one.
    const withAuth = requests.map(({ setupRequest, ...r }) => ({
      ...r,
      headers: { ...headers, ...r.headers },
      ...(setupRequest && {
        setupRequest: (req, context) => {
          const built = setupRequest(req, context);
          return { ...built, headers: { ...headers, ...built.headers } };
        },
      }),
    }));
    const result = await autocannon({ url: origin, connections: CONNECTIONS, duration, requests: withAuth });
    if (result.non2xx > 0 || result.errors > 0) {
      const sample = { ...requests[0], ...(requests[0].setupRequest?.({}) ?? {}) };
      const res = await fetch(`${origin}${sample.path}`, {
        method: sample.method,
        headers: { ...headers, ...sample.headers },
        body: sample.body,
      });
      throw new Error(
        `${result.non2xx} non-2xx, ${result.errors} errors; e.g. ${sample.method} ${sample.path} → ${res.status} ${await res.text()}`,
      );
    }
    rates.push(result.requests.average);
    // Requests answered, for counts per request (the change feed's events per write).
    if (tally) tally.requests += result["2xx"];
  }
  return rates.sort((a, b) => a - b)[Math.floor(rates.length / 2)];
}

export const json = { "Content-Type": "application/scim+json" };
export const patchOps = (...Operations) =>
  JSON.stringify({ schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations });
/** A request rebuilt each time; `context` is autocannon's per-connection state (for multi-request sequences). */
export const dynamic = (method, build) => ({ method, setupRequest: (req, context) => ({ ...req, ...build(context) }) });

/** The machine a benchmark ran on, as each report names it. */
export const describeMachine = () => `${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}`;

/**
 * Writes one benchmark's section (text starting `## <title>`) into BENCHMARKS.md: in place of the section of that
 * title, else before the peer comparison (which stays last), else at the end. Every other section stays as it is,
 * whichever benchmarks ran in whatever order.
 */
export function writeSection(title, section) {
  const report = existsSync("BENCHMARKS.md") ? readFileSync("BENCHMARKS.md", "utf8") : "# Benchmarks\n";
  const parts = report.split(/\n(?=## )/);
  const at = parts.findIndex((part) => part.startsWith(`## ${title}\n`));
  const peer = parts.findIndex((part) => part.startsWith("## Peer comparison\n"));
  const text = `${section.trim()}\n`;
  if (at !== -1) parts[at] = text;
  else if (peer !== -1) parts.splice(peer, 0, text);
  else parts.push(text);
  writeFileSync("BENCHMARKS.md", `${parts.map((part) => part.trimEnd()).join("\n\n")}\n`);
}
