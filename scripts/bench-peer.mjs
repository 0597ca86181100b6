#!/usr/bin/env node
// `npm run bench:peer`: the same workload against our worker (wrangler dev, local D1) and against SCIMMY +
// scimmy-routers on Node with SQLite (bench/peer/server.mjs), in one run, reported as ratios (ours ÷ peer).
// The peer's packages go into a temporary folder (reused while it exists), never into this project.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BENCH_SECRETS,
  DURATION,
  dynamic,
  issueBenchToken,
  json,
  measure,
  patchOps,
  RUNS,
  random,
  seedTenant,
  warmUp,
  writeBenchConfigs,
  writeSection,
} from "./lib/bench-kit.mjs";
import { d1, freePort, migrateLocal, startWorker } from "./lib/local-worker.mjs";

const USERS = Number(process.env.BENCH_PEER_USERS ?? 10_000);
// SQLite is Node's own node:sqlite: no native module to build against the running Node's headers.
const PEER_PACKAGES = ["scimmy@1.3.5", "scimmy-routers@1.3.2", "express@4.21.2"];

// --- the peer's own folder -----------------------------------------------------------------------------------------
const peerDir = join(tmpdir(), "edge-scim-peer");
if (!existsSync(join(peerDir, "node_modules", "scimmy-routers"))) {
  console.log(`Installing ${PEER_PACKAGES.join(", ")} into ${peerDir}…`);
  mkdirSync(peerDir, { recursive: true });
  writeFileSync(
    join(peerDir, "package.json"),
    JSON.stringify({ name: "edge-scim-peer", private: true, type: "module" }),
  );
  const install = spawnSync("npm", ["install", "--no-audit", "--no-fund", ...PEER_PACKAGES], {
    cwd: peerDir,
    stdio: "inherit",
  });
  if (install.status !== 0) process.exit(install.status ?? 1);
}
copyFileSync("bench/peer/server.mjs", join(peerDir, "server.mjs"));

// --- our worker, seeded in bulk --------------------------------------------------------------------------------
const state = mkdtempSync(join(tmpdir(), "scim-bench-peer-"));
process.on("exit", () => rmSync(state, { recursive: true, force: true }));
const { main: config, floor: floorConfig } = writeBenchConfigs(state);
const ours = seedTenant("peer", USERS);
writeFileSync(join(state, "seed.sql"), ours.sql);
migrateLocal(state, config);
d1(state, ["execute", "DB", "--file", join(state, "seed.sql")], config);

// --- the workload, the same for both ---------------------------------------------------------------------------------
let counter = 0;
const workload = (base) => ({
  "GET /Users/{id}": [dynamic("GET", () => ({ path: `${base}/Users/peer-u${random(USERS)}` }))],
  "filter externalId eq": [
    dynamic("GET", () => ({ path: `${base}/Users?filter=externalId+eq+%22ext${random(USERS)}%22` })),
  ],
  "filter userName eq": [
    dynamic("GET", () => ({ path: `${base}/Users?filter=userName+eq+%22user${random(USERS)}%40bench.example%22` })),
  ],
  "PATCH /Users/{id}": [
    dynamic("PATCH", () => ({
      path: `${base}/Users/peer-u${(++counter % USERS) + 1}`,
      headers: json,
      body: patchOps({ op: "replace", path: "title", value: `t${counter}` }),
    })),
  ],
  "POST /Users": [
    dynamic("POST", () => ({
      path: `${base}/Users`,
      headers: json,
      body: JSON.stringify({
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
        userName: `new${++counter}@bench.example`,
        externalId: `new${counter}`,
      }),
    })),
  ],
});

const rates = { ours: {}, peer: {} };
const floorWorker = await startWorker({ persistTo: state, config: floorConfig, ready: "/static" });
let floor;
try {
  const floorRequests = [dynamic("GET", () => ({ path: `/?id=peer-u${random(USERS)}` }))];
  await warmUp(floorWorker.origin, floorRequests);
  floor = await measure(floorWorker.origin, floorRequests);
} finally {
  floorWorker.stop();
}
const worker = await startWorker({ persistTo: state, config, vars: BENCH_SECRETS });
try {
  await issueBenchToken(worker.origin, ours);
  await warmUp(worker.origin, workload(ours.base)["GET /Users/{id}"], { Authorization: `Bearer ${ours.token}` });
  for (const [name, requests] of Object.entries(workload(ours.base))) {
    rates.ours[name] = await measure(worker.origin, requests, { Authorization: `Bearer ${ours.token}` });
  }
} finally {
  worker.stop();
}

const port = await freePort();
// node:sqlite needs this flag before Node 22.13 and accepts it after.
const peer = spawn("node", ["--experimental-sqlite", "server.mjs"], {
  cwd: peerDir,
  env: { ...process.env, PORT: String(port), TOKEN: "T", SEED: String(USERS) },
  stdio: ["ignore", "pipe", "inherit"],
});
process.on("exit", () => peer.kill());
await new Promise((ready) => peer.stdout.on("data", (chunk) => String(chunk).includes("peer ready") && ready()));
try {
  await warmUp(`http://127.0.0.1:${port}`, workload("/scim/v2")["GET /Users/{id}"], { Authorization: "Bearer T" });
  for (const [name, requests] of Object.entries(workload("/scim/v2"))) {
    rates.peer[name] = await measure(`http://127.0.0.1:${port}`, requests, { Authorization: "Bearer T" });
  }
} finally {
  peer.kill();
}

const lines = [
  "| operation | ours req/s | ours ÷ local floor | SCIMMY + SQLite req/s | ours ÷ peer |",
  "| --- | ---: | ---: | ---: | ---: |",
  `| floor worker: one D1 row by primary key (our runtime) | ${floor.toFixed(0)} | 1.00 | | |`,
];
for (const name of Object.keys(rates.ours)) {
  const o = rates.ours[name];
  const p = rates.peer[name];
  lines.push(`| ${name} | ${o.toFixed(0)} | ${(o / floor).toFixed(2)} | ${p.toFixed(0)} | ${(o / p).toFixed(2)} |`);
}
const table = lines.join("\n");
console.log(`\n${table}\n\n${USERS.toLocaleString()} users each; median of ${RUNS} runs of ${DURATION} s.`);
const section = `## Peer comparison\n\nReproduce: \`npm run bench:peer\`. The same workload against SCIMMY 1.3.5 + scimmy-routers 1.3.2 on Node\n(express, node:sqlite with indexes on id, userName and externalId), ${USERS.toLocaleString()} users each, median of ${RUNS} runs of\n${DURATION} s. See docs/performance.md for what is ours and what is the local D1 simulator's.\n\n${table}\n`;
writeSection("Peer comparison", section);
process.exit(0);
