#!/usr/bin/env node
// `npm run build [-- --env NAME]`: bundles both workers as a deploy would, without uploading anything: the app
// worker (wrangler.toml) into dist/app, the SCIM worker (its config derived from wrangler.toml,
// scripts/lib/scim-worker.mjs) into dist/scim. Prints wrangler's size line for each, and the files uploaded.
import { buildWorker } from "./lib/build-worker.mjs";
import { writeScimWorkerConfig } from "./lib/scim-worker.mjs";

const args = process.argv.slice(2);
const workers = { app: "wrangler.toml", scim: writeScimWorkerConfig() };
for (const [name, config] of Object.entries(workers)) {
  try {
    const { sizeLine, files } = buildWorker({ config, outdir: `dist/${name}`, args });
    console.log(`${name} worker: ${sizeLine} (${files.map((f) => `${f.name} ${f.kib.toFixed(2)} KiB`).join(", ")})`);
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
