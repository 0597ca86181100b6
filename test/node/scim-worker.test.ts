// The SCIM worker (src/scim-worker.ts): its wrangler config derived from wrangler.toml, level by level, and its
// bundle within the size Entra's cold starts were promised (issue #32: at most 100 KiB gzip).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "smol-toml";
import { afterAll, describe, expect, it } from "vitest";
import { buildWorker } from "../../scripts/lib/build-worker.mjs";
import { writeLocalConfigs } from "../../scripts/lib/local-worker.mjs";
import { LEFT_OUT, scimWorkerConfig, writeScimWorkerConfig } from "../../scripts/lib/scim-worker.mjs";

const ROOT = new URL("../..", import.meta.url).pathname;
/** A config level (the top or an environment), as the assertions read it. */
interface Level {
  [key: string]: unknown;
  name?: string;
  queues?: { producers?: unknown; consumers?: unknown };
  triggers?: { crons?: string[] };
  env?: Record<string, Level>;
}
const APP = parse(readFileSync(join(ROOT, "wrangler.toml"), "utf8")) as unknown as Level;
const SCIM = scimWorkerConfig(APP) as unknown as Level;
const dir = mkdtempSync(join(tmpdir(), "scim-worker-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the SCIM worker's config, derived from the app worker's", () => {
  const levels = [
    ["the top level", APP, SCIM],
    ...Object.entries(APP.env ?? {}).map(([name, app]) => [`env ${name}`, app, SCIM.env?.[name]]),
  ] as [string, Level, Level][];

  it.each(levels)(
    "%s: every other binding, variable and setting as it is, and the queues to send to",
    (_, app, scim) => {
      const own = [...LEFT_OUT, "queues", "secrets", "services"];
      const copied = Object.keys(app).filter((key) => !own.includes(key));
      expect(copied).toEqual(expect.arrayContaining(["d1_databases", "kv_namespaces", "ratelimits", "vars"]));
      for (const key of copied) expect(scim[key], key).toEqual(app[key]);
      expect(scim.queues).toEqual({ producers: app.queues?.producers });
    },
  );

  it.each(levels)("%s: its own name, the app worker behind APP, only the signing keys to read", (_, app, scim) => {
    expect(scim.name).toBe(`${app.name}-scim`);
    expect(scim.services).toEqual([{ binding: "APP", service: app.name }]);
    expect(scim.secrets).toEqual({ required: ["TOKEN_SIGNING_KEYS"] });
    // The crons and the queues' consumers are the app worker's alone: each runs once.
    expect(scim.triggers).toBeUndefined();
    expect(scim.queues?.consumers).toBeUndefined();
  });

  it("builds the same way, from its own entry beside the app's", () => {
    expect(SCIM.main).toBe("src/scim-worker.ts");
    for (const key of ["compatibility_date", "minify", "rules", "observability"]) expect(SCIM[key]).toEqual(APP[key]);
  });

  it("runs locally with every variable in both workers' configs, the secrets among them, paths absolute", () => {
    const [scimPath, appPath] = writeLocalConfigs(join(dir, "local"), {
      vars: { TOKEN_SIGNING_KEYS: "k", EXTRA: "x" },
    });
    const [scim, app] = [scimPath, appPath].map((path) => JSON.parse(readFileSync(path as string, "utf8")));
    for (const config of [scim, app]) {
      expect(config.vars).toMatchObject({ TOKEN_SIGNING_KEYS: "k", EXTRA: "x" });
      expect(config.secrets).toBeUndefined();
      expect(config.main.startsWith("/")).toBe(true);
    }
    expect(scim.services).toEqual([{ binding: "APP", service: app.name }]);
    expect(app.triggers.crons).toEqual(APP.triggers?.crons);
  });
});

/** `npm run build`'s bundle of one worker, in this test's folder. */
const bundle = (name: string, config: string) => buildWorker({ config, outdir: join(dir, name), cwd: ROOT });

describe("the bundles", () => {
  let built: ReturnType<typeof bundle> | undefined;
  const scim = () => {
    built ??= bundle("scim", writeScimWorkerConfig(join(ROOT, "wrangler.toml")));
    return built;
  };
  const app = () => bundle("app", join(ROOT, "wrangler.toml"));

  it("keeps the SCIM worker at most 100 KiB gzip, as wrangler measures a deploy", () => {
    expect(scim().gzipKiB).toBeLessThanOrEqual(100);
  }, 60_000);

  it("leaves the OpenAPI document's generator out of both workers: the app worker serves it as built", () => {
    const generator = /node_modules\/(hono-openapi|@valibot\/to-json-schema)\/|src\/http\/admin\/openapi-document\.ts$/;
    const { inputs, files } = app();
    // The check reads real bundles: the app worker's script is there, and the document beside it as a text module.
    expect(inputs.some((input) => input.endsWith("src/http/admin/router.ts"))).toBe(true);
    expect(files.map((file) => file.name)).toContain("openapi.json");
    expect(inputs.filter((input) => generator.test(input))).toEqual([]);
    expect(scim().inputs.filter((input) => generator.test(input))).toEqual([]);
  }, 60_000);
});
