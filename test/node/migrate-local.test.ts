// scripts/migrate.mjs run for real against local storage in a folder of its own: wrangler starts once per database,
// which is why this file has a project of its own (tooling-slow in vitest.config.ts).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = new URL("../..", import.meta.url).pathname;
const persist = mkdtempSync(join(tmpdir(), "migrate-"));
afterAll(() => rmSync(persist, { recursive: true, force: true }));

describe("migrate", () => {
  it("applies the migrations to each local database", () => {
    const run = () =>
      spawnSync(process.execPath, ["scripts/migrate.mjs", "--local", "--persist-to", persist], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
        timeout: 120_000,
      });
    const first = run();
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout.trim().split("\n")).toEqual([
      "DB: migrations applied",
      "DATA_1: migrations applied",
      "DATA_2: migrations applied",
    ]);
  }, 180_000);
});
