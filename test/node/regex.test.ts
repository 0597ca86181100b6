// Every regular expression in the Worker runs on request input somewhere (paths, headers, filters, bodies, error
// messages carrying them), so none may backtrack super-linearly: recheck analyses each literal in src/.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parse } from "@babel/parser";
import { check } from "recheck";
import { expect, it } from "vitest";

const SRC = new URL("../../src/", import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

interface Literal {
  where: string;
  pattern: string;
  flags: string;
}

/** Regex literals found by walking the syntax tree (text search would miss or invent some). */
function regexLiterals(file: string): Literal[] {
  const ast = parse(readFileSync(file, "utf8"), { sourceType: "module", plugins: ["typescript"] });
  const found: Literal[] = [];
  const walk = (node: unknown) => {
    if (!node || typeof node !== "object") return;
    if (Array.isArray(node)) return node.forEach(walk);
    const n = node as { type?: string; pattern?: string; flags?: string; loc?: { start: { line: number } } };
    if (n.type === "RegExpLiteral" && n.pattern !== undefined) {
      found.push({ where: `${relative(SRC, file)}:${n.loc?.start.line}`, pattern: n.pattern, flags: n.flags ?? "" });
    }
    for (const [key, value] of Object.entries(node)) if (key !== "loc" && key !== "extra") walk(value);
  };
  walk(ast.program);
  return found;
}

const literals = sourceFiles(SRC).flatMap(regexLiterals);

it("finds the regular expressions it is meant to check", () => {
  expect(literals.length).toBeGreaterThan(10);
});

it.each(literals.map((l) => [`${l.where} /${l.pattern}/${l.flags}`, l] as const))(
  "%s matches in linear time",
  async (_, literal) => {
    const diagnostics = await check(literal.pattern, literal.flags, { timeout: 10_000 });
    expect(diagnostics.status === "safe" ? "safe" : `${diagnostics.status}: ${JSON.stringify(diagnostics)}`).toBe(
      "safe",
    );
  },
  30_000,
);
