#!/usr/bin/env node
// `npm run bench`: seeds tenants in bulk straight into a fresh local D1, runs the worker and a floor worker under
// `wrangler dev`, drives them with autocannon and reports throughput as ratios: each operation against the floor
// (one D1 row by primary key in the same runtime), and each operation at a large tenant against a small one.
// Medians of several short runs; absolute numbers depend on the machine and are not the point.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BENCH_SECRETS,
  CONNECTIONS,
  DURATION,
  describeMachine,
  dynamic,
  feedFrom,
  issueBenchToken,
  json,
  measure,
  patchOps,
  RUNS,
  random,
  seedTenant,
  warmUp,
  writeBenchConfigs,
} from "./lib/bench-kit.mjs";
import { buildWorker } from "./lib/build-worker.mjs";
import { adminCall, d1, kv, migrateLocal, startWorker } from "./lib/local-worker.mjs";
import { writeScimWorkerConfig } from "./lib/scim-worker.mjs";

const SMALL = Number(process.env.BENCH_SMALL ?? 1_000);
const LARGE = Number(process.env.BENCH_LARGE ?? 100_000);
const BIG_GROUP = 10_000;

const state = mkdtempSync(join(tmpdir(), "scim-bench-"));
process.on("exit", () => rmSync(state, { recursive: true, force: true }));

const { main: mainConfig, floor: floorConfig } = writeBenchConfigs(state);

// --- bulk seed, straight into the local D1 ------------------------------------------------------------------
const tenants = { small: seedTenant("small", SMALL), large: seedTenant("large", LARGE) };
const seedSql = [
  tenants.small.sql,
  tenants.large.sql,
  groupSql("large", "g10", 10, 1),
  groupSql("large", "g10k", BIG_GROUP, 1),
  // What the floor's `/bound/write` writes to (bench/floor-worker.ts): a table of its own, out of the service's way.
  "CREATE TABLE floor_writes (id TEXT PRIMARY KEY, n INTEGER NOT NULL);",
].join("\n");
writeFileSync(join(state, "seed.sql"), seedSql);
console.log(
  `Seeding ${SMALL.toLocaleString()} and ${LARGE.toLocaleString()} users, groups of 10 and ${BIG_GROUP.toLocaleString()} members…`,
);
migrateLocal(state, mainConfig);
d1(state, ["execute", "DB", "--file", join(state, "seed.sql")], mainConfig);
// What the floor's `/bound` reads: a value the size of a token's grant.
const floorGrant = { tokenId: crypto.randomUUID(), tenantId: crypto.randomUUID(), database: "DB", expiresAt: 9e15 };
kv(state, ["key", "put", "floor-grant", JSON.stringify(floorGrant), "--binding", "GRANTS"], floorConfig);

function groupSql(tenant, id, members, from) {
  const now = Date.now();
  return `
INSERT INTO groups (id, tenant_id, display_name, display_name_key, data, folded, created_at, updated_at)
  VALUES ('${id}', '${tenant}', '${id}', '${id}', json_object('displayName', '${id}'), json_object('displayName', '${id}'), ${now}, ${now});
WITH RECURSIVE seq(n) AS (SELECT ${from} UNION ALL SELECT n + 1 FROM seq WHERE n < ${from + members - 1})
INSERT INTO group_members (tenant_id, group_id, member_id, created_at) SELECT '${tenant}', '${id}', '${tenant}-u' || n, ${now} FROM seq;`;
}

let counter = 0;

const operations = (t) => ({
  "GET /Users/{id}": [dynamic("GET", () => ({ path: `${t.base}/Users/${t.name}-u${random(t.users)}` }))],
  "filter externalId eq": [
    dynamic("GET", () => ({ path: `${t.base}/Users?filter=externalId+eq+%22ext${random(t.users)}%22` })),
  ],
  "filter userName eq": [
    dynamic("GET", () => ({ path: `${t.base}/Users?filter=userName+eq+%22user${random(t.users)}%40bench.example%22` })),
  ],
  "PATCH /Users/{id}": [
    dynamic("PATCH", () => ({
      // Distinct users in flight: concurrent PATCHes of one user would measure the version-conflict path.
      path: `${t.base}/Users/${t.name}-u${(++counter % t.users) + 1}`,
      headers: json,
      body: patchOps({ op: "replace", path: "title", value: `t${counter}` }),
    })),
  ],
});

const results = [];
const record = (section, name, rate, reference) => results.push({ section, name, rate, reference });
/** Change-feed events written per request of each write mix (the outbox's share of the writes). */
const outbox = [];

const auth = (t) => ({ Authorization: `Bearer ${t.token}` });
let server;
let receiver;
let boundFloor;

/** A webhook receiver on loopback that takes every delivery (204), for the mixes with an endpoint listening. */
function startReceiver() {
  const http = createServer((request, response) => {
    request.resume();
    request.on("end", () => response.writeHead(204).end());
  });
  return new Promise((resolve) =>
    http.listen(0, "127.0.0.1", () => {
      resolve({ url: `http://127.0.0.1:${http.address().port}/hooks`, close: () => http.close() });
    }),
  );
}
try {
  // The floor, alone in the runtime.
  server = await startWorker({ persistTo: state, config: floorConfig, ready: "/?id=x" });
  const floorRequests = [dynamic("GET", () => ({ path: `/?id=large-u${random(LARGE)}` }))];
  await warmUp(server.origin, floorRequests);
  const floor = await measure(server.origin, floorRequests);
  const runtime = await measure(server.origin, [{ method: "GET", path: "/static" }]);
  const bound = await measure(server.origin, [dynamic("GET", () => ({ path: `/bound?id=large-u${random(LARGE)}` }))]);
  const boundWrite = await measure(server.origin, [
    dynamic("POST", () => ({ path: `/bound/write?id=w${random(LARGE)}` })),
  ]);
  server.stop();
  record("floor", "one D1 row by primary key (floor worker)", floor);
  record("floor", "no D1 at all (floor worker, /static)", runtime, floor);
  record("floor", "a rate-limit call, a KV read, then the D1 row (floor worker, /bound)", bound, floor);
  record("floor", "a rate-limit call, a KV read, then one D1 write (floor worker, /bound/write)", boundWrite, floor);
  /**
   * The least `requests` can cost here, authenticated and rate-limited: each a bound read or a bound write as its
   * method says, their times added (req/s of the whole sequence, as autocannon counts it).
   */
  boundFloor = (requests) =>
    requests.length / requests.reduce((time, r) => time + 1 / (r.method === "GET" ? bound : boundWrite), 0);

  // Webhooks reach the loopback receiver over http (never set in wrangler.toml).
  server = await startWorker({
    persistTo: state,
    config: mainConfig,
    vars: { ...BENCH_SECRETS, WEBHOOKS_ALLOW_HTTP: "true" },
  });
  for (const t of Object.values(tenants)) await issueBenchToken(server.origin, t);
  for (const t of Object.values(tenants)) await warmUp(server.origin, operations(t)["GET /Users/{id}"], auth(t));

  // Small and large runs alternate, so drift on a shared machine (warm-up, neighbours) hits both sizes alike.
  const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  for (const name of Object.keys(operations(tenants.small))) {
    const samples = { small: [], large: [] };
    for (let run = 0; run < RUNS; run++) {
      for (const t of [tenants.small, tenants.large]) {
        samples[t.name].push(await measure(server.origin, operations(t)[name], auth(t), { runs: 1 }));
      }
    }
    for (const t of [tenants.small, tenants.large]) {
      record("vs floor", `${name} (${t.users.toLocaleString()} users)`, median(samples[t.name]), floor);
    }
    for (const t of [tenants.small, tenants.large]) {
      const floorOf = boundFloor(operations(t)[name]);
      record("vs bound floor", `${name} (${t.users.toLocaleString()} users)`, median(samples[t.name]), floorOf);
    }
    const scale = `${name}: ${SMALL.toLocaleString()} vs ${LARGE.toLocaleString()} users`;
    record("scale", scale, median(samples.large), median(samples.small));
  }

  const t = tenants.large;
  // Each connection adds a member and removes it again, so the groups keep their size (10 and 10,000) while
  // being measured; every add and every remove changes a row.
  let next = BIG_GROUP + 1;
  const memberAddRemove = (group) => [
    dynamic("PATCH", (context) => {
      context.member = `large-u${next++}`;
      return {
        path: `${t.base}/Groups/${group}`,
        headers: json,
        body: patchOps({ op: "add", path: "members", value: [{ value: context.member }] }),
      };
    }),
    dynamic("PATCH", (context) => ({
      path: `${t.base}/Groups/${group}`,
      headers: json,
      body: patchOps({ op: "remove", path: `members[value eq "${context.member}"]` }),
    })),
  ];
  const changes = { g10: [], g10k: [] };
  for (let run = 0; run < RUNS; run++) {
    for (const group of ["g10", "g10k"]) {
      changes[group].push(await measure(server.origin, memberAddRemove(group), auth(t), { runs: 1 }));
    }
  }
  record("vs floor", "member add + remove (10-member group)", median(changes.g10), floor);
  record("vs floor", `member add + remove (${BIG_GROUP.toLocaleString()}-member group)`, median(changes.g10k), floor);
  const memberFloor = boundFloor(memberAddRemove("g10"));
  record("vs bound floor", "member add + remove (10-member group)", median(changes.g10), memberFloor);
  record(
    "vs bound floor",
    `member add + remove (${BIG_GROUP.toLocaleString()}-member group)`,
    median(changes.g10k),
    memberFloor,
  );
  record(
    "scale",
    `member add + remove: 10 vs ${BIG_GROUP.toLocaleString()} members`,
    median(changes.g10k),
    median(changes.g10),
  );
  let removeNext = 1;

  const listStart = await measure(
    server.origin,
    [{ method: "GET", path: `${t.base}/Users?startIndex=1&count=100` }],
    auth(t),
  );
  const listDeep = await measure(
    server.origin,
    [{ method: "GET", path: `${t.base}/Users?startIndex=${LARGE - 100}&count=100` }],
    auth(t),
  );
  record("vs floor", "list page of 100, near the start", listStart, floor);
  record("vs floor", `list page of 100, at ${(LARGE - 100).toLocaleString()}`, listDeep, floor);
  record("scale", "list page: start vs deep", listDeep, listStart);

  // Write mixes: the rate, and the change-feed events each request wrote, read back through the feed itself.
  let feedCursor = (await feedFrom(server.origin, t)).cursor;
  const writeMix = async (name, requests) => {
    const tally = { requests: 0 };
    const rate = await measure(server.origin, requests, auth(t), { tally });
    record("vs floor", name, rate, floor);
    record("vs bound floor", name, rate, boundFloor(requests));
    const { events, cursor } = await feedFrom(server.origin, t, feedCursor);
    feedCursor = cursor;
    outbox.push({ name, perRequest: events / tally.requests });
  };

  // Entra's initial sync for a new user: match by externalId, match by userName, create.
  let syncUser = 0;
  const initialSync = [
    dynamic("GET", (context) => {
      context.user = ++syncUser;
      return { path: `${t.base}/Users?filter=externalId+eq+%22new${context.user}%22` };
    }),
    dynamic("GET", (context) => ({
      path: `${t.base}/Users?filter=userName+eq+%22new${context.user}%40bench.example%22`,
    })),
    dynamic("POST", (context) => ({
      path: `${t.base}/Users`,
      headers: json,
      body: JSON.stringify({
        userName: `new${context.user}@bench.example`,
        externalId: `new${context.user}`,
        active: true,
      }),
    })),
  ];
  const mixes = { "Entra initial sync mix (filter, filter, POST)": initialSync };
  // Entra's initial sync of an assigned group: match by displayName, create it empty, add a member.
  let syncGroup = 0;
  const groupSync = [
    dynamic("GET", (context) => {
      context.group = ++syncGroup;
      return { path: `${t.base}/Groups?excludedAttributes=members&filter=displayName+eq+%22sync${context.group}%22` };
    }),
    {
      ...dynamic("POST", (context) => ({
        path: `${t.base}/Groups`,
        headers: json,
        body: JSON.stringify({ displayName: `sync${context.group}` }),
      })),
      onResponse: (_status, body, context) => {
        context.groupId = JSON.parse(body).id;
      },
    },
    dynamic("PATCH", (context) => ({
      path: `${t.base}/Groups/${context.groupId}`,
      headers: json,
      body: patchOps({ op: "add", path: "members", value: [{ value: `large-u${random(LARGE)}` }] }),
    })),
  ];
  mixes["Entra initial sync, groups (filter, POST, add member)"] = groupSync;
  // Incremental cycle: attribute update, deactivation, member removal.
  const incremental = [
    dynamic("PATCH", () => ({
      path: `${t.base}/Users/large-u${(++counter % LARGE) + 1}`,
      headers: json,
      body: patchOps({ op: "Replace", path: "displayName", value: `D${counter}` }),
    })),
    dynamic("PATCH", () => ({
      path: `${t.base}/Users/large-u${(++counter % LARGE) + 1}`,
      headers: json,
      body: patchOps({ op: "Replace", path: "active", value: "False" }),
    })),
    dynamic("PATCH", () => ({
      path: `${t.base}/Groups/g10k`,
      headers: json,
      body: patchOps({ op: "remove", path: `members[value eq "large-u${removeNext++}"]` }),
    })),
  ];
  mixes["Entra incremental mix (update, deactivate, member remove)"] = incremental;
  // The same mixes where nobody listens, then where a webhook endpoint takes the tenant (a receiver on loopback,
  // answering 204): what the queue's nudges, the fan-out and the deliveries add, in the same run.
  for (const [name, requests] of Object.entries(mixes)) await writeMix(name, requests);
  receiver = await startReceiver();
  await adminCall(server.origin, BENCH_SECRETS.ADMIN_API_KEY, "POST", "/webhooks", {
    url: receiver.url,
    tenantIds: [t.name],
  });
  for (const [name, requests] of Object.entries(mixes)) await writeMix(`${name}, an endpoint listening`, requests);
} finally {
  server?.stop();
  receiver?.close();
}

// --- bundle size -------------------------------------------------------------------------------------------------
// Both workers as `npm run build` bundles them: the SCIM worker is what a cold start on Entra's path loads.
const bundles = Object.entries({ scim: writeScimWorkerConfig(), app: "wrangler.toml" }).map(([name, config]) => ({
  name,
  ...buildWorker({ config, outdir: join(state, "dist", name) }),
}));

// --- report --------------------------------------------------------------------------------------------------
const lines = [];
const row = (...cells) => lines.push(`| ${cells.join(" | ")} |`);
lines.push("| section | measurement | req/s (median) | ratio |", "| --- | --- | ---: | ---: |");
for (const r of results) {
  const ratio = r.reference ? (r.section === "scale" ? r.reference / r.rate : r.rate / r.reference) : 1;
  row(r.section, r.name, r.rate.toFixed(0), ratio.toFixed(2));
}
for (const o of outbox) row("outbox", `events per request: ${o.name}`, o.perRequest.toFixed(2), "");
for (const { name, kib, gzipKiB, files } of bundles) {
  const parts = files.map((file) => `${file.name} ${file.kib.toFixed(2)} KiB`).join(", ");
  row("bundle", `${name} worker (npm run build)`, `${kib} KiB (gzip ${gzipKiB} KiB): ${parts}`, "");
}
const table = lines.join("\n");
const machine = describeMachine();
console.log(
  `\n${table}\n\nvs floor: operation req/s ÷ floor req/s (higher is better). scale: cost at the large size ÷ cost at the small size (req/s small ÷ req/s large; 1.0 = flat).\n${machine}`,
);
// The other benchmarks' sections (each under its own `## ` heading) are kept when this part is rewritten.
const peerSection = /^## [\s\S]*$/m.exec(existsSync("BENCHMARKS.md") ? readFileSync("BENCHMARKS.md", "utf8") : "")?.[0];
writeFileSync(
  "BENCHMARKS.md",
  `# Benchmarks

Reproduce: \`npm ci && npm run bench\` (about ${Math.ceil(((17 + 3) * RUNS * DURATION) / 60) + 1} minutes). Environment variables
\`BENCH_SMALL\`, \`BENCH_LARGE\`, \`BENCH_RUNS\` and \`BENCH_SECONDS\` change the sizes and the run length.

Machine: ${machine}. Local runtime: \`wrangler dev\` (workerd with the local D1 simulator, a SQLite file on disk),
${CONNECTIONS} autocannon connections on the same machine, median of ${RUNS} runs of ${DURATION} s each. The machines are
shared and noisy: read ratios, not absolute numbers.

- **vs floor**: the operation's requests/s divided by the floor's: a minimal worker in the same runtime answering one
  D1 row by primary key. Goal for reads ≥ 0.7; writes are reported.
- **vs bound floor**: the operation's requests/s divided by the least its requests can cost authenticated and
  rate-limited: the floor worker's \`/bound\` for each read (the row after the two platform calls every SCIM request
  makes, the tenant's rate limit and the token's grant from KV, with nothing of ours around them) and
  \`/bound/write\` for each write (the same calls, then one row written), their times added. What our code adds
  beyond the platform's calls.
- **scale**: requests/s at the small size divided by requests/s at the large size, i.e. how much more a request costs
  at 100,000 users (or 10,000 members, or deep in the list) than at 1,000 (or 10, or the first page). Goal ≤ 1.5.

${table}

See docs/performance.md for what the numbers mean and what remains.
${peerSection ? `\n${peerSection}` : ""}`,
);
