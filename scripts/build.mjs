#!/usr/bin/env node
// `npm run build [-- --env NAME]`: bundles both workers as a deploy would, without uploading anything: the app
// worker (wrangler.toml) into dist/app, the SCIM worker (its config derived from wrangler.toml,
// scripts/lib/scim-worker.mjs) into dist/scim. Prints wrangler's size line for each.
import { spawnSync } from "node:child_process";
import { writeScimWorkerConfig } from "./lib/scim-worker.mjs";

const args = process.argv.slice(2);
const workers = { app: "wrangler.toml", scim: writeScimWorkerConfig() };
for (const [name, config] of Object.entries(workers)) {
  const run = spawnSync(
    "node_modules/.bin/wrangler",
    ["deploy", "--dry-run", "--config", config, "--outdir", `dist/${name}`, ...args],
    { encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  if (run.status !== 0) {
    console.error(`${run.stdout}${run.stderr}`);
    process.exit(run.status ?? 1);
  }
  const size = /Total Upload: .*/.exec(`${run.stdout}${run.stderr}`)?.[0] ?? "Total Upload: (not reported)";
  console.log(`${name} worker: ${size}`);
}
