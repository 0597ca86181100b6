// Every change the service records reads as a sentence on the customer's pages: each audit action and event type the
// code names (as a literal, wherever it is written) has its words in ACTION_WORDS, and the table names no other.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { EVENT_TYPES } from "../../src/events/registry";
import { ACTION_WORDS } from "../../src/http/pages/views/action-words";

const SRC = new URL("../../src/", import.meta.url).pathname;
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : /\.tsx?$/.test(entry.name) ? [join(dir, entry.name)] : [],
  );

it("has a sentence for every recorded action and event type, and for nothing else", () => {
  const domains =
    "user|group|token|tenant|portal|integration|client_secret|webhook|quota|role_mappings|attribute_mappings|access";
  const named = new Set<string>(EVENT_TYPES);
  for (const file of files(SRC).filter((f) => !f.endsWith("action-words.ts"))) {
    for (const match of readFileSync(file, "utf8").matchAll(new RegExp(`"((?:${domains})\\.[a-z_]+)"`, "g"))) {
      named.add(match[1] as string);
    }
  }
  expect(Object.keys(ACTION_WORDS).sort()).toEqual([...named].sort());
});
