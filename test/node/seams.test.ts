// The Worker's layers, as its imports draw them: HTTP reaches storage only through the services (which export the
// view types the wire and the pages need), and no module depends on itself through others, type-only imports
// included (a cycle is two modules that cannot be read, or moved, one without the other).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parse } from "@babel/parser";
import { expect, it } from "vitest";

const SRC = new URL("../../src/", import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** A relative specifier as the bundler resolves it: the file itself, with .ts or .tsx, or a folder's index. */
function resolveImport(from: string, specifier: string) {
  const base = resolve(dirname(from), specifier);
  const candidates = [base, `${base}.ts`, `${base}.tsx`, join(base, "index.ts"), join(base, "index.tsx")];
  return candidates.find((path) => existsSync(path) && statSync(path).isFile());
}

/**
 * The files of src/ a file imports, from its syntax tree: import and export-from declarations (`import type`
 * included), dynamic imports and `import("…")` types. Packages are left out; a relative specifier that resolves to
 * nothing is reported rather than skipped.
 */
function importsOf(file: string) {
  const ast = parse(readFileSync(file, "utf8"), {
    sourceType: "module",
    plugins: file.endsWith(".tsx") ? ["typescript", "jsx"] : ["typescript"],
  });
  const specifiers: { specifier: string; typeOnly: boolean }[] = [];
  const walk = (node: unknown) => {
    if (!node || typeof node !== "object") return;
    if (Array.isArray(node)) return node.forEach(walk);
    const n = node as {
      type?: string;
      source?: { value?: unknown };
      argument?: { value?: unknown };
      importKind?: string;
      exportKind?: string;
      specifiers?: { importKind?: string; exportKind?: string }[];
    };
    if (typeof n.source?.value === "string") {
      // `import type …`, or only `type` specifiers: erased, so nothing of it is bundled.
      const kinds = [n.importKind ?? n.exportKind, ...(n.specifiers ?? []).map((s) => s.importKind ?? s.exportKind)];
      const typeOnly =
        kinds[0] === "type" || ((n.specifiers?.length ?? 0) > 0 && kinds.slice(1).every((k) => k === "type"));
      specifiers.push({ specifier: n.source.value, typeOnly });
    }
    if (n.type === "TSImportType" && typeof n.argument?.value === "string") {
      specifiers.push({ specifier: n.argument.value, typeOnly: true });
    }
    for (const [key, value] of Object.entries(node)) if (key !== "loc" && key !== "extra") walk(value);
  };
  walk(ast.program);
  return specifiers
    .filter(({ specifier }) => specifier.startsWith("."))
    .map(({ specifier, typeOnly }) => ({ specifier, typeOnly, path: resolveImport(file, specifier) }));
}

const graph = new Map(
  sourceFiles(SRC).map((file) => [
    relative(SRC, file),
    importsOf(file).map((i) => ({ ...i, path: i.path && relative(SRC, i.path) })),
  ]),
);

it("resolves every relative import in src/", () => {
  const unresolved = [...graph].flatMap(([file, imports]) =>
    imports.filter((i) => i.path === undefined).map((i) => `${file}: ${i.specifier}`),
  );
  expect(graph.size).toBeGreaterThan(100);
  expect(unresolved).toEqual([]);
});

it("keeps src/db out of src/http: the services export what the pages and the wire show", () => {
  const crossings = [...graph]
    .filter(([file]) => file.startsWith("http/"))
    .flatMap(([file, imports]) => imports.filter((i) => i.path?.startsWith("db/")).map((i) => `${file} → ${i.path}`));
  expect(crossings).toEqual([]);
});

/** The pure folders: no storage, no clock. They import one another and packages, nothing of the layers above. */
const PURE = ["scim/", "events/", "lib/", "webhooks/", "moves/", "oauth/"];

/**
 * What each layer below HTTP may import: storage reaches only storage and the pure code; the use cases (and the
 * token grants they publish) reach storage too, never HTTP, the composition or the entry modules.
 */
const LAYERS: Record<string, string[]> = {
  "db/": ["db/", ...PURE],
  "tokens/": ["tokens/", "db/", ...PURE],
  "services/": ["services/", "tokens/", "db/", ...PURE],
};

it("imports only downwards: storage never reaches the use cases, the use cases never HTTP or the composition", () => {
  const upward = [...graph].flatMap(([file, imports]) => {
    const layer = Object.keys(LAYERS).find((folder) => file.startsWith(folder));
    if (layer === undefined) return [];
    const allowed = LAYERS[layer] ?? [];
    return imports
      .filter((i) => i.path !== undefined && !allowed.some((folder) => i.path?.startsWith(folder)))
      .map((i) => `${file} → ${i.path}`);
  });
  expect(upward).toEqual([]);
});

it("keeps the pure code pure: scim/, events/, lib/, webhooks/, moves/ and oauth/ import only one another", () => {
  const reaching = [...graph]
    .filter(([file]) => PURE.some((folder) => file.startsWith(folder)))
    .flatMap(([file, imports]) =>
      imports
        .filter((i) => i.path !== undefined && !PURE.some((folder) => i.path?.startsWith(folder)))
        .map((i) => `${file} → ${i.path}`),
    );
  expect(reaching).toEqual([]);
});

it("has no import cycle in src/", () => {
  // Depth first: an import of a file still on the path closes a cycle, named from that file back to itself.
  const cycles: string[] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (file: string) => {
    if (done.has(file)) return;
    const at = path.indexOf(file);
    if (at !== -1) {
      cycles.push([...path.slice(at), file].join(" → "));
      return;
    }
    path.push(file);
    for (const i of graph.get(file) ?? []) if (i.path) visit(i.path);
    path.pop();
    done.add(file);
  };
  for (const file of [...graph.keys()].sort()) visit(file);
  expect(cycles).toEqual([]);
});

it("keeps the SCIM worker to Entra's surfaces: it reaches none of the admin API, the pages and the console", () => {
  // What src/scim-worker.ts reaches is what its bundle holds (BENCHMARKS.md, "bundle"; test/node/scim-worker.test.ts).
  const reached = new Set<string>();
  const visit = (file: string) => {
    if (reached.has(file)) return;
    reached.add(file);
    for (const i of graph.get(file) ?? []) if (i.path && !i.typeOnly) visit(i.path);
  };
  visit("scim-worker.ts");
  expect(reached.has("http/scim/router.ts")).toBe(true);
  const appOnly = [
    "http/admin/",
    "http/pages/",
    "http/portal/",
    "http/console/",
    "surfaces.ts",
    "index.ts",
    "queue.ts",
  ];
  // The JSON error body the token endpoint's unexpected failures share with the admin API (six lines).
  const shared = ["http/admin/errors.ts"];
  const reachedAppOnly = [...reached].filter((file) => appOnly.some((prefix) => file.startsWith(prefix)));
  expect(reachedAppOnly.filter((file) => !shared.includes(file))).toEqual([]);
});
