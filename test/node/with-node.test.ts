// scripts/with-node.mjs, run as npm scripts run it: a child process on this machine's Node. The fallback case is
// made real by a copy of the launcher whose package.json asks for a Node newer than any that exists.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const LAUNCHER = new URL("../../scripts/with-node.mjs", import.meta.url).pathname;
const PINNED = readFileSync(new URL("../../.nvmrc", import.meta.url), "utf8").trim();
const copies: string[] = [];
afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

/** The launcher in a folder of its own, with the given engines floor beside it. */
function launcherWithFloor(engines: string): string {
  const root = mkdtempSync(join(tmpdir(), "with-node-"));
  copies.push(root);
  mkdirSync(join(root, "scripts"));
  copyFileSync(LAUNCHER, join(root, "scripts", "with-node.mjs"));
  writeFileSync(join(root, "package.json"), JSON.stringify({ engines: { node: engines } }));
  writeFileSync(join(root, ".nvmrc"), `${PINNED}\n`);
  return join(root, "scripts", "with-node.mjs");
}

const run = (launcher: string, ...args: string[]) =>
  spawnSync(process.execPath, [launcher, ...args], { encoding: "utf8", timeout: 120_000 });

describe("with-node", () => {
  it("runs the command directly on a Node that meets the floor, passing arguments and exit code", () => {
    const [major, minor] = process.versions.node.split(".");
    const launcher = launcherWithFloor(`>=${major}.${minor}`);
    const ran = run(launcher, process.execPath, "-e", "console.log(process.argv[1]); process.exit(3)", "an arg");
    expect(ran.status).toBe(3);
    expect(ran.stdout.trim()).toBe("an arg");
    expect(ran.stderr).not.toContain("with-node:");
  });

  it("runs the command on the .nvmrc Node, first on PATH for its children too, when this Node is too old", () => {
    const launcher = launcherWithFloor(">=999.0");
    const ran = run(launcher, "sh", "-c", 'node -p process.versions.node && node -e "process.exit(4)"');
    expect(ran.stderr).toContain(`is older than >=999.0; running on Node ${PINNED}`);
    expect(ran.stdout.trim()).toBe(PINNED);
    expect(ran.status).toBe(4);
  });

  it("refuses an engines range it cannot read instead of guessing", () => {
    const ran = run(launcherWithFloor("^22.12.0"), "true");
    expect(ran.status).toBe(2);
    expect(ran.stderr).toContain('engines.node must be ">=MAJOR.MINOR"');
  });

  it("says so when the command does not exist", () => {
    const [major, minor] = process.versions.node.split(".");
    const ran = run(launcherWithFloor(`>=${major}.${minor}`), "no-such-command-for-with-node");
    expect(ran.status).toBe(127);
    expect(ran.stderr).toContain("with-node: cannot run no-such-command-for-with-node");
  });
});
