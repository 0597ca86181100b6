// The licence and the third-party notices ship with the code: a dependency added without regenerating
// THIRD_PARTY_NOTICES.md (`npm run notices`) fails here, as does a licence field or file gone missing.
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { renderNotices, runtimePackages } from "../../scripts/third-party-notices.mjs";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

it("is licensed Apache-2.0: LICENSE, NOTICE and package.json agree", () => {
  expect(read("LICENSE")).toContain("Apache License\n                           Version 2.0, January 2004");
  expect(read("NOTICE")).toContain("Licensed under the Apache License, Version 2.0");
  expect(JSON.parse(read("package.json")).license).toBe("Apache-2.0");
});

it("THIRD_PARTY_NOTICES.md lists every package the Worker runs, with its licence text, as generated", () => {
  const packages = runtimePackages();
  expect(packages.map((p) => p.name)).toEqual(expect.arrayContaining(["hono", "drizzle-orm", "valibot", "jose"]));
  expect(read("THIRD_PARTY_NOTICES.md")).toBe(renderNotices(packages));
});
