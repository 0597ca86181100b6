#!/usr/bin/env node
// `BENCH_BASELINE=<another checkout> npm run bench:ab`: this checkout against a baseline (a git worktree of the
// commit before a change, with node_modules), both under `wrangler dev` at once, each with its own local state seeded
// alike, the runs alternating A, B, A, B… so drift on a shared machine hits both alike. Reports each operation's
// median requests per second on both and their ratio (this ÷ baseline). `npm run bench`'s ratios are against a floor
// measured once per run, which drifts as much as a change moves; this is how a change is measured (issue #32).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  BENCH_SECRETS,
  describeMachine,
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
} from "./lib/bench-kit.mjs";
import { d1, migrateLocal, startWorker } from "./lib/local-worker.mjs";

const baseline = process.env.BENCH_BASELINE;
if (!baseline || !existsSync(join(baseline, "wrangler.toml"))) {
  console.error(
    "BENCH_BASELINE must name another checkout with its node_modules, e.g. " +
      '`git worktree add ../base HEAD~3 && ln -s "$PWD/node_modules" ../base/node_modules`.',
  );
  process.exit(2);
}
const USERS = Number(process.env.BENCH_USERS ?? 20_000);
const here = resolve(".");

/** One side: its checkout, its own local state with the same tenant seeded, its worker once started. */
function prepare(label, root) {
  const state = mkdtempSync(join(tmpdir(), `scim-ab-${label}-`));
  process.on("exit", () => rmSync(state, { recursive: true, force: true }));
  process.chdir(root);
  const { main } = writeBenchConfigs(state);
  const tenant = seedTenant("ab", USERS);
  const group = `INSERT INTO groups (id, tenant_id, display_name, display_name_key, data, folded, created_at, updated_at)
    VALUES ('g10', 'ab', 'g10', 'g10', json_object('displayName', 'g10'), json_object('displayName', 'g10'), 0, 0);`;
  writeFileSync(join(state, "seed.sql"), `${tenant.sql}\n${group}`);
  migrateLocal(state, main);
  d1(state, ["execute", "DB", "--file", join(state, "seed.sql")], main);
  process.chdir(here);
  return { label, root, state, main, tenant };
}

console.log(`Seeding ${USERS.toLocaleString()} users on each side…`);
const sides = [prepare("baseline", resolve(baseline)), prepare("this", here)];

let counter = 0;
let member = 1;
const operations = (t) => ({
  "GET /Users/{id}": [dynamic("GET", () => ({ path: `${t.base}/Users/ab-u${random(USERS)}` }))],
  "filter userName eq": [
    dynamic("GET", () => ({ path: `${t.base}/Users?filter=userName+eq+%22user${random(USERS)}%40bench.example%22` })),
  ],
  "filter externalId eq": [
    dynamic("GET", () => ({ path: `${t.base}/Users?filter=externalId+eq+%22ext${random(USERS)}%22` })),
  ],
  "PATCH /Users/{id}": [
    dynamic("PATCH", () => ({
      path: `${t.base}/Users/ab-u${(++counter % USERS) + 1}`,
      headers: json,
      body: patchOps({ op: "replace", path: "title", value: `t${counter}` }),
    })),
  ],
  "list page of 100, near the end": [
    dynamic("GET", () => ({ path: `${t.base}/Users?startIndex=${USERS - 100 - random(100)}&count=100` })),
  ],
  "member add + remove": [
    dynamic("PATCH", (context) => {
      context.member = `ab-u${(member++ % USERS) + 1}`;
      return {
        path: `${t.base}/Groups/g10`,
        headers: json,
        body: patchOps({ op: "add", path: "members", value: [{ value: context.member }] }),
      };
    }),
    dynamic("PATCH", (context) => ({
      path: `${t.base}/Groups/g10`,
      headers: json,
      body: patchOps({ op: "remove", path: `members[value eq "${context.member}"]` }),
    })),
  ],
});

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const rows = [];
try {
  for (const side of sides) {
    process.chdir(side.root);
    side.server = await startWorker({ persistTo: side.state, config: side.main, vars: BENCH_SECRETS });
    process.chdir(here);
    await issueBenchToken(side.server.origin, side.tenant);
    const auth = { Authorization: `Bearer ${side.tenant.token}` };
    await warmUp(side.server.origin, operations(side.tenant)["GET /Users/{id}"], auth);
  }
  for (const name of Object.keys(operations(sides[0].tenant))) {
    const samples = sides.map(() => []);
    for (let run = 0; run < RUNS; run++) {
      for (const [i, side] of sides.entries()) {
        const auth = { Authorization: `Bearer ${side.tenant.token}` };
        samples[i].push(await measure(side.server.origin, operations(side.tenant)[name], auth, { runs: 1 }));
      }
    }
    const [a, b] = samples.map(median);
    rows.push(`| ${name} | ${Math.round(a)} | ${Math.round(b)} | ${(b / a).toFixed(2)} |`);
  }
} finally {
  for (const side of sides) side.server?.stop();
}
console.log(`\n${USERS.toLocaleString()} users; median of ${RUNS} alternating runs; ${describeMachine()}\n`);
console.log("| operation | baseline req/s | this req/s | this ÷ baseline |\n| --- | ---: | ---: | ---: |");
console.log(rows.join("\n"));
process.exit(0);
