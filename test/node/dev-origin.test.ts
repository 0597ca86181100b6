// `npm run events:tail` finds the running `npm run dev` by the file dev writes, whatever its port, and trusts it only
// while that process lives.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { readDevOrigin, removeDevOrigin, writeDevOrigin } from "../../scripts/lib/dev-origin.mjs";

const file = () => join(mkdtempSync(join(tmpdir(), "dev-origin-")), "dev-origin.json");

it("reads the origin a live dev wrote (another port included), and nothing once it is removed", () => {
  const at = file();
  writeDevOrigin("http://127.0.0.1:8790", at);
  expect(readDevOrigin(at)).toBe("http://127.0.0.1:8790");
  removeDevOrigin(at);
  expect(readDevOrigin(at)).toBeUndefined();
});

it("ignores a file a killed dev left behind", () => {
  const at = file();
  // A process id no process has (the kernel's limit is far below it).
  writeFileSync(at, JSON.stringify({ origin: "http://127.0.0.1:8790", pid: 2 ** 30 }));
  expect(readDevOrigin(at)).toBeUndefined();
});
