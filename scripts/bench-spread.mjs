#!/usr/bin/env node
// `npm run bench:spread`: busy tenants on one data database versus the same load spread over two, in one run of one
// worker. Each tenant runs Entra's initial-sync mix (filter by externalId, filter by userName, POST) on its own
// connections; the report gives the total requests/s of each layout, their ratio, and the D1 calls each request
// made (the request log's count). Locally every D1 database is a SQLite file served by the same workerd process on
// this machine's cores, so spreading can only show what the local simulator parallelises; in production each D1
// database is its own single-threaded server, and capacity adds up per database (docs/operations.md).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BENCH_SECRETS,
  CONNECTIONS,
  DURATION,
  describeMachine,
  dynamic,
  json,
  measure,
  RUNS,
  writeBenchConfigs,
  writeSection,
} from "./lib/bench-kit.mjs";
import { adminCall, migrateLocal, startWorker } from "./lib/local-worker.mjs";

/** Busy tenants in each layout: enough that each database of the spread layout serves several at once. */
const TENANTS = Number(process.env.BENCH_TENANTS ?? 4);

const state = mkdtempSync(join(tmpdir(), "scim-spread-"));
process.on("exit", () => rmSync(state, { recursive: true, force: true }));
const { main: config } = writeBenchConfigs(state);
migrateLocal(state, config);

const key = BENCH_SECRETS.ADMIN_API_KEY;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** A tenant on `database` with its integration; its token authenticates the load as Entra's would. */
async function tenantOn(origin, database, n) {
  const tenant = await adminCall(origin, key, "POST", "/tenants", {
    name: `busy ${database} ${n}`,
    azureAdEnabled: true,
    database,
  });
  const issued = await adminCall(origin, key, "POST", `/tenants/${tenant.id}/integrations/azure-ad`, {});
  return { id: tenant.id, database, token: issued.token };
}

/**
 * Entra's initial sync of new users, each connection sticking to one of `tenants` (round robin as connections
 * open): the requests carry their tenant's token, so one autocannon run loads every tenant at once.
 */
let assigned = 0;
let created = 0;
const initialSync = (tenants) => {
  const as = (context) => {
    context.tenant ??= tenants[assigned++ % tenants.length];
    return { Authorization: `Bearer ${context.tenant.token}` };
  };
  const base = (context) => `/scim/v2/${context.tenant.id}`;
  return [
    dynamic("GET", (context) => {
      const headers = as(context);
      context.user = ++created;
      return { headers, path: `${base(context)}/Users?filter=externalId+eq+%22s${context.user}%22` };
    }),
    dynamic("GET", (context) => ({
      headers: as(context),
      path: `${base(context)}/Users?filter=userName+eq+%22s${context.user}%40spread.example%22`,
    })),
    dynamic("POST", (context) => ({
      headers: { ...as(context), ...json },
      path: `${base(context)}/Users`,
      body: JSON.stringify({
        userName: `s${context.user}@spread.example`,
        externalId: `s${context.user}`,
        active: true,
      }),
    })),
  ];
};

const worker = await startWorker({ persistTo: state, config, vars: BENCH_SECRETS });
let layouts;
let logged;
let footprint;
try {
  const packed = [];
  const spread = [];
  for (let n = 0; n < TENANTS; n++) {
    packed.push(await tenantOn(worker.origin, "DATA_1", n));
    spread.push(await tenantOn(worker.origin, n % 2 === 0 ? "DATA_1" : "DATA_2", n));
  }
  await measure(worker.origin, initialSync([...packed, ...spread]), {}, { runs: 1, duration: 2 });
  const samples = { packed: [], spread: [] };
  // Alternating, so drift on a shared machine hits both layouts alike.
  for (let run = 0; run < RUNS; run++) {
    samples.packed.push(await measure(worker.origin, initialSync(packed), {}, { runs: 1 }));
    samples.spread.push(await measure(worker.origin, initialSync(spread), {}, { runs: 1 }));
  }
  layouts = { packed: median(samples.packed), spread: median(samples.spread) };
  logged = spread[0];
  // What a provisioned user takes on disk, with its indexes, audit row and event: DATA_2 holds only spread tenants.
  const { items } = await adminCall(worker.origin, key, "GET", "/databases");
  const data2 = items.find((d) => d.name === "DATA_2");
  const empty = items.find((d) => d.name === "DB");
  footprint = { users: data2.userCount, bytes: data2.sizeBytes - empty.sizeBytes };
} finally {
  worker.stop();
}
// D1 calls per request of the mix, from the request log of a few requests outside the measurement.
const log = await requestLogOf(logged);

/**
 * Runs the mix once for `tenant` under a worker of its own whose request log is read: the D1 calls each kind of
 * request makes, as production would log them.
 */
async function requestLogOf(tenant) {
  const lines = [];
  const port = 18_000 + Math.floor(Math.random() * 1000);
  const child = spawn(
    "node_modules/.bin/wrangler",
    [
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--persist-to",
      state,
      "--config",
      config,
      "--log-level",
      "log",
      ...Object.entries(BENCH_SECRETS).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
    ],
    { env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" }, detached: true },
  );
  child.stdout.on("data", (chunk) => {
    for (const line of String(chunk).split("\n")) if (line.includes('"event":"request"')) lines.push(JSON.parse(line));
  });
  const origin = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 120; i++) {
      try {
        await fetch(origin);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    const auth = { Authorization: `Bearer ${tenant.token}` };
    const scim = (method, path, body) =>
      fetch(`${origin}/scim/v2/${tenant.id}${path}`, { method, headers: { ...auth, ...json }, body });
    for (let i = 0; i < 3; i++) {
      await scim("GET", `/Users?filter=externalId+eq+%22log${i}%22`);
      await scim("GET", `/Users?filter=userName+eq+%22log${i}%40spread.example%22`);
      await scim("POST", "/Users", JSON.stringify({ userName: `log${i}@spread.example`, externalId: `log${i}` }));
    }
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    process.kill(-child.pid, "SIGTERM");
  }
  return lines.filter((l) => l.route?.startsWith("/scim/"));
}

// The last of each route: the first request of an isolate also records the token's use (one more call, at most once
// per token every five minutes), which is not what the mix costs in steady state.
const perRoute = new Map(log.map((line) => [`${line.method} ${line.route}`, line.d1]));
const machine = describeMachine();
const rows = [
  "| layout | req/s (median) | ratio |",
  "| --- | ---: | ---: |",
  `| ${TENANTS} busy tenants on one data database | ${layouts.packed.toFixed(0)} | 1.00 |`,
  `| the same load over two data databases | ${layouts.spread.toFixed(0)} | ${(layouts.spread / layouts.packed).toFixed(2)} |`,
  "",
  "| request of the mix (request log, steady state) | D1 calls | statements | rows read | rows written |",
  "| --- | ---: | ---: | ---: | ---: |",
  ...[...perRoute].map(
    ([route, d]) => `| ${route} | ${d.calls} | ${d.statements} | ${d.rowsRead} | ${d.rowsWritten} |`,
  ),
  "",
  `Disk per provisioned user (document, folded copy, indexes, its audit row and event), measured on DATA_2: ${Math.round(
    footprint.bytes / footprint.users,
  ).toLocaleString()} bytes (${footprint.users.toLocaleString()} users).`,
].join("\n");
console.log(`\n${rows}\n\n${machine}`);

const section = `## Spread over data databases

Reproduce: \`npm run bench:spread\` (\`BENCH_TENANTS\`, \`BENCH_RUNS\`, \`BENCH_SECONDS\`). ${TENANTS} tenants each run Entra's
initial-sync mix (filter by externalId, filter by userName, POST) on ${CONNECTIONS} connections in all, all on one data
database, then the same load with the tenants spread over two; median of ${RUNS} alternating runs of ${DURATION} s.
Machine: ${machine}.

${rows}

Locally both databases are SQLite files served by one workerd process on this machine's cores, so the ratio shows
what the simulator parallelises, not what Cloudflare does: in production each D1 database is its own single-threaded
server and capacity adds up per database. docs/operations.md turns the D1 calls above into capacity figures.
`;
writeSection("Spread over data databases", section);
process.exit(0);
