// One worker bundled as a deploy would bundle it, nothing uploaded: `npm run build` and the bundle tests
// (test/node/scim-worker.test.ts) build the same way.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * `wrangler deploy --dry-run` of `config` into `outdir`, emptied first (wrangler adds to an existing folder, so a
 * module of an earlier build would be listed as this one's). Returns wrangler's size line and its numbers, the files
 * uploaded (the script and the modules it imports as they are, such as the OpenAPI document as text) with their
 * sizes, and the source files esbuild put into the script. Throws with wrangler's output on failure.
 */
export function buildWorker({ config, outdir, cwd = process.cwd(), args = [] }) {
  rmSync(outdir, { recursive: true, force: true });
  const metafile = `${outdir}.meta.json`;
  const run = spawnSync(
    join(cwd, "node_modules/.bin/wrangler"),
    ["deploy", "--dry-run", "--config", config, "--outdir", outdir, "--metafile", metafile, ...args],
    { cwd, encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" } },
  );
  const output = `${run.stdout}${run.stderr}`;
  const size = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(output);
  if (run.status !== 0 || !size) throw new Error(`wrangler deploy --dry-run --config ${config} failed:\n${output}`);
  const { outputs } = JSON.parse(readFileSync(metafile, "utf8"));
  rmSync(metafile, { force: true });
  return {
    sizeLine: size[0],
    kib: Number(size[1]),
    gzipKiB: Number(size[2]),
    files: readdirSync(outdir)
      .filter((file) => !file.endsWith(".map") && file !== "README.md")
      .map((file) => ({
        name: file.replace(/^[0-9a-f]{40}-/, ""),
        kib: statSync(join(outdir, file)).size / 1024,
      })),
    inputs: Object.values(outputs).flatMap((out) => Object.keys(out.inputs ?? {})),
  };
}
