// scripts/remote.mjs: the first deploy and later deploys as steps, built from wrangler.toml and checked here without
// reaching Cloudflare; the command line in dry-run mode prints them.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  ANSWERS,
  createdId,
  deploySteps,
  environmentOf,
  missingSecrets,
  resourcesOf,
  setupSteps,
  writeId,
} from "../../scripts/remote.mjs";

const CONFIG = readFileSync(new URL("../../wrangler.toml", import.meta.url), "utf8");
const ROOT = new URL("../..", import.meta.url).pathname;
const commands = (steps: { run: string[] }[]) => steps.map((s) => s.run.slice(1).join(" "));

describe("environments", () => {
  it("are named explicitly: never the top level, never one wrangler.toml does not declare", () => {
    expect(environmentOf(CONFIG, ["--env", "production"])).toBe("production");
    expect(environmentOf(CONFIG, ["--env", "staging"])).toBe("staging");
    expect(() => environmentOf(CONFIG, [])).toThrow("--env staging|production");
    expect(() => environmentOf(CONFIG, ["--env", "prod"])).toThrow("--env staging|production");
  });

  it("each declare their own control and data databases, KV namespace, queues and secrets", () => {
    for (const [env, suffix] of [
      ["staging", "-staging"],
      ["production", ""],
    ] as const) {
      const declared = resourcesOf(CONFIG, env);
      expect(declared.databases.map((d) => [d.binding, d.name])).toEqual([
        ["DB", `edge-scim${suffix}`],
        ["DATA_1", `edge-scim${suffix}-data-1`],
        ["DATA_2", `edge-scim${suffix}-data-2`],
      ]);
      expect(declared.kv.map((k) => k.binding)).toEqual(["TOKENS"]);
      expect(declared.queues).toEqual([
        `webhook-deliveries${suffix}`,
        `tenant-moves${suffix}`,
        `webhook-deliveries${suffix}-dead`,
      ]);
      expect(declared.secrets).toEqual(["ADMIN_API_KEY", "TOKEN_SIGNING_KEYS", "WEBHOOK_SECRETS_KEY"]);
    }
  });
});

describe("the first deploy", () => {
  it("creates what the environment declares, migrates every database, then deploys with new secrets", () => {
    const steps = setupSteps(CONFIG, "production");
    expect(commands(steps)).toEqual([
      "d1 create edge-scim",
      "d1 create edge-scim-data-1",
      "d1 create edge-scim-data-2",
      "kv namespace create TOKENS --env production",
      "queues create webhook-deliveries",
      "queues create tenant-moves",
      "queues create webhook-deliveries-dead",
      "scripts/migrate.mjs --remote --env production",
      "deploy --env production",
      "deploy --config wrangler.scim.json --env production",
    ]);
    expect(steps.at(-2)?.secrets).toEqual(["ADMIN_API_KEY", "TOKEN_SIGNING_KEYS", "WEBHOOK_SECRETS_KEY"]);
    // The SCIM worker verifies what the app worker signs: the signing keys only, the same values.
    expect(steps.at(-1)?.secrets).toEqual(["TOKEN_SIGNING_KEYS"]);
  });

  it("never makes up a secret one worker has and the other lacks: it says how to put the same value", () => {
    // The app worker's key, the SCIM worker without it (before the split, or a setup stopped between the deploys):
    // deployed without it, passing everything on, and a warning that says what to put.
    const upgrade = missingSecrets("production", ["TOKEN_SIGNING_KEYS"], { app: ["TOKEN_SIGNING_KEYS"], scim: [] });
    expect(upgrade).toMatchObject({ app: [], scim: [] });
    expect(upgrade.warnings.join()).toContain(
      "wrangler secret put TOKEN_SIGNING_KEYS --config wrangler.scim.json --env production",
    );
    expect(() => setupSteps(CONFIG, "production", { app: [], scim: ["TOKEN_SIGNING_KEYS"] })).toThrow(
      "wrangler secret put TOKEN_SIGNING_KEYS --env production",
    );
    const steps = setupSteps(CONFIG, "production", {
      app: ["ADMIN_API_KEY", "TOKEN_SIGNING_KEYS", "WEBHOOK_SECRETS_KEY"],
      scim: ["TOKEN_SIGNING_KEYS"],
    });
    expect(steps.filter((s) => "secrets" in s)).toEqual([]);
  });

  it("skips what a setup that failed part way already did", () => {
    const id = "4a1b2c3d-0000-4000-8000-000000000001";
    const written = writeId(CONFIG, {
      envName: "production",
      table: "d1_databases",
      binding: "DATA_1",
      field: "database_id",
      id,
    });
    const steps = setupSteps(written, "production", { app: ["ADMIN_API_KEY"], scim: [] });
    expect(commands(steps)).not.toContain("d1 create edge-scim-data-1");
    expect(commands(steps)).toContain("d1 create edge-scim-data-2");
    expect(steps.at(-2)?.secrets).toEqual(["TOKEN_SIGNING_KEYS", "WEBHOOK_SECRETS_KEY"]);
  });

  it("writes an id into its own environment's block only, leaving the rest of the file as it was", () => {
    const id = "4a1b2c3d-0000-4000-8000-000000000002";
    const written = writeId(CONFIG, {
      envName: "staging",
      table: "d1_databases",
      binding: "DB",
      field: "database_id",
      id,
    });
    const changed = written.split("\n").filter((line, i) => line !== CONFIG.split("\n")[i]);
    expect(changed).toEqual([`database_id = "${id}"`]);
    expect(resourcesOf(written, "staging").databases[0]?.created).toBe(true);
    expect(resourcesOf(written, "production").databases[0]?.created).toBe(false);
    expect(() =>
      writeId(CONFIG, { envName: "staging", table: "d1_databases", binding: "DATA_9", field: "database_id", id }),
    ).toThrow();
  });

  it("reads the ids wrangler prints, as TOML or as JSON", () => {
    const uuid = "8d9f0a6e-2b1c-4c3d-9e8f-0a1b2c3d4e5f";
    expect(
      createdId(`[[d1_databases]]\nbinding = "DB"\ndatabase_name = "x"\ndatabase_id = "${uuid}"`, "database_id"),
    ).toBe(uuid);
    expect(createdId(`{ "d1_databases": [{ "binding": "DB", "database_id": "${uuid}" }] }`, "database_id")).toBe(uuid);
    const kv = "0f2ac74b498b48028cb68387c421e279";
    expect(createdId(`[[kv_namespaces]]\nbinding = "TOKENS"\nid = "${kv}"`, "id")).toBe(kv);
    expect(() => createdId("Error: something went wrong", "id")).toThrow("no id");
  });
});

describe("later deploys", () => {
  it("migrate every database of the environment, then deploy the app worker, then the SCIM worker", () => {
    expect(commands(deploySteps("staging"))).toEqual([
      "scripts/migrate.mjs --remote --env staging",
      "deploy --env staging",
      "deploy --config wrangler.scim.json --env staging",
    ]);
  });

  it("take Cloudflare's answers for a queue that exists and a Worker not deployed yet for what they are", () => {
    expect(ANSWERS.queue.test("Queue name already taken [code: 11009]")).toBe(true);
    expect(ANSWERS.queue.test("A queue with this name already exists")).toBe(true);
    expect(ANSWERS.queue.test("Authentication error [code: 10000]")).toBe(false);
    expect(ANSWERS.noWorker.test("This Worker does not exist on your account. [code: 10007]")).toBe(true);
    expect(ANSWERS.noWorker.test("fetch failed: getaddrinfo ENOTFOUND api.cloudflare.com")).toBe(false);
  });

  it("print their steps with --dry-run and refuse to run without an environment", () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ["scripts/remote.mjs", ...args], { cwd: ROOT, encoding: "utf8", timeout: 30_000 });
    const dry = run("deploy", "--env", "production", "--dry-run");
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain("would run: node scripts/migrate.mjs --remote --env production");
    const refused = run("deploy", "--dry-run");
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("name the environment");
    const setup = run("setup", "--env", "staging", "--dry-run");
    expect(setup.status).toBe(0);
    expect(setup.stdout).toContain("would run: node_modules/.bin/wrangler d1 create edge-scim-staging-data-2");
    expect(setup.stdout).toContain("(with new secrets: ADMIN_API_KEY, TOKEN_SIGNING_KEYS, WEBHOOK_SECRETS_KEY)");
  });
});
