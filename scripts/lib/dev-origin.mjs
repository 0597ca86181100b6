// Where the running `npm run dev` listens, for the tools beside it (`npm run events:tail`): dev writes its origin and
// process id here when it starts and removes the file when it stops; a reader trusts it only while that process
// lives, so a file left by a killed dev names nothing.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export const DEV_ORIGIN_FILE = join(".wrangler", "dev-origin.json");

export function writeDevOrigin(origin, file = DEV_ORIGIN_FILE) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ origin, pid: process.pid }));
}

export function removeDevOrigin(file = DEV_ORIGIN_FILE) {
  rmSync(file, { force: true });
}

/** The running dev's origin, or undefined when none runs (no file, or its process is gone). */
export function readDevOrigin(file = DEV_ORIGIN_FILE) {
  if (!existsSync(file)) return undefined;
  try {
    const { origin, pid } = JSON.parse(readFileSync(file, "utf8"));
    process.kill(pid, 0);
    return typeof origin === "string" ? origin : undefined;
  } catch {
    return undefined;
  }
}
