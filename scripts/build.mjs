#!/usr/bin/env node
// `npm run build [-- --env NAME]`: bundles both workers as a deploy would, without uploading anything: the app
// worker (wrangler.toml) into dist/app, the SCIM worker (its config derived from wrangler.toml,
// scripts/lib/scim-worker.mjs) into dist/scim. Prints wrangler's size line for each.
import { spawnSync } from "node:child_process";
import { readdirSync, rmSync, statSync } from "node:fs";
import { writeScimWorkerConfig } from "./lib/scim-worker.mjs";

const args = process.argv.slice(2);
const workers = { app: "wrangler.toml", scim: writeScimWorkerConfig() };
for (const [name, config] of Object.entries(workers)) {
  // Wrangler adds to an existing output folder: a module of an earlier build would be listed as this one's.
  rmSync(`dist/${name}`, { recursive: true, force: true });
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
  // The upload is the script and the modules it imports as they are (the admin API's OpenAPI document, as text).
  const files = readdirSync(`dist/${name}`)
    .filter((file) => !file.endsWith(".map") && file !== "README.md")
    .map(
      (file) =>
        `${file.replace(/^[0-9a-f]{40}-/, "")} ${(statSync(`dist/${name}/${file}`).size / 1024).toFixed(2)} KiB`,
    );
  console.log(`${name} worker: ${size} (${files.join(", ")})`);
}
