// docs/architecture.md's layout against the tree: every folder and top-level module of src/ (and every folder of
// src/http/) has its line, and every path the layout names exists. The map cannot fall behind the code unnoticed.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The layout's paths, from the code block under "## Layout": a name at the start of a line, nested by indent. */
function layoutPaths() {
  const doc = readFileSync(`${ROOT}docs/architecture.md`, "utf8");
  const block = /## Layout\n\n```\n([\s\S]*?)```/.exec(doc)?.[1] ?? "";
  const parents: string[] = [];
  const paths: string[] = [];
  for (const line of block.split("\n")) {
    // A named line: two spaces per level, then the name, then two spaces or the end (a description's continuation
    // lines are indented further and name nothing).
    const match = /^((?: {2})*)(\S+?)(?: {2,}|$)/.exec(line);
    if (!match || match[1] === undefined || match[2] === undefined || match[1].length > 8) continue;
    const depth = match[1].length / 2;
    parents.length = depth;
    const path = `${parents.join("")}${match[2]}`;
    paths.push(path);
    if (match[2].endsWith("/")) parents[depth] = match[2];
  }
  return paths;
}

/** The entries of a folder the layout must name: its folders, and its modules where `modules` says so. */
const entries = (folder: string, modules: boolean) =>
  readdirSync(`${ROOT}${folder}`, { withFileTypes: true })
    .filter((e) => e.isDirectory() || (modules && /\.tsx?$/.test(e.name)))
    .map((e) => `${folder}${e.name}${e.isDirectory() ? "/" : ""}`);

it("docs/architecture.md names every folder and top-level module of src/, and every folder of src/http/", () => {
  const named = layoutPaths();
  expect(named.length).toBeGreaterThan(20);
  const required = [...entries("src/", true), ...entries("src/http/", true)];
  expect(required.filter((path) => !named.includes(path))).toEqual([]);
});

it("docs/architecture.md names only paths that exist", () => {
  expect(layoutPaths().filter((path) => !existsSync(`${ROOT}${path}`))).toEqual([]);
});
