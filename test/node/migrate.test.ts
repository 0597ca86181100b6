// scripts/migrate.mjs: every D1 database of wrangler.toml (or of one environment) gets the one migration set, with
// the caller's extra arguments (run for real in migrate-local.test.ts).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { d1Bindings, migrationCommands } from "../../scripts/migrate.mjs";

const CONFIG = readFileSync(new URL("../../wrangler.toml", import.meta.url), "utf8");

describe("migrate", () => {
  it("migrates the control database and every data database, passing extra arguments through", () => {
    expect(d1Bindings(CONFIG)).toEqual(["DB", "DATA_1", "DATA_2"]);
    expect(migrationCommands(CONFIG, "--local", ["--persist-to", "x"])).toEqual(
      ["DB", "DATA_1", "DATA_2"].map((b) => ["d1", "migrations", "apply", b, "--local", "--persist-to", "x"]),
    );
  });

  it("takes an environment's own databases, which are not inherited from the top level", () => {
    expect(migrationCommands(CONFIG, "--remote", ["--env", "staging"])).toEqual(
      ["DB", "DATA_1", "DATA_2"].map((b) => ["d1", "migrations", "apply", b, "--remote", "--env", "staging"]),
    );
    const extra = CONFIG.replace(
      '[[env.staging.d1_databases]]\nbinding = "DATA_2"',
      '[[env.staging.d1_databases]]\nbinding = "DATA_EU"\ndatabase_name = "eu"\ndatabase_id = "1"\n\n[[env.staging.d1_databases]]\nbinding = "DATA_2"',
    );
    expect(d1Bindings(extra, "staging")).toEqual(["DB", "DATA_1", "DATA_EU", "DATA_2"]);
    expect(d1Bindings(extra)).toEqual(["DB", "DATA_1", "DATA_2"]);
    expect(() => d1Bindings(CONFIG, "qa")).toThrow("[env.qa]");
  });
});
