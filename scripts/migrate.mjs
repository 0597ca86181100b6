#!/usr/bin/env node
// `npm run db:migrate:local` / `db:migrate:remote`: applies the migrations to every D1 database wrangler.toml
// declares (the control database and each data database; one migration set for all), one after another. Extra
// arguments go to every `wrangler d1 migrations apply` (e.g. `--persist-to DIR`, `--env production`); with
// `--env NAME` the databases are those of that environment, since bindings are not inherited between environments.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";

const WRANGLER = "node_modules/.bin/wrangler";

/** The D1 bindings of wrangler.toml, or of its environment `envName`. */
export function d1Bindings(configText, envName) {
  const config = parse(configText);
  const scope = envName ? config.env?.[envName] : config;
  if (!scope) throw new Error(`wrangler.toml has no [env.${envName}]`);
  return (scope.d1_databases ?? []).map((d) => d.binding);
}

/** The wrangler commands that migrate every database: `mode` is --local or --remote, `extra` passes through. */
export function migrationCommands(configText, mode, extra) {
  const envArg = extra.indexOf("--env");
  const envName = envArg >= 0 ? extra[envArg + 1] : undefined;
  return d1Bindings(configText, envName).map((binding) => ["d1", "migrations", "apply", binding, mode, ...extra]);
}

/** Runs them; wrangler's own table is shown only when one fails. Returns one summary line per database. */
export function migrateAll(mode, extra, env = process.env) {
  const config = readFileSync(new URL("../wrangler.toml", import.meta.url), "utf8");
  return migrationCommands(config, mode, extra).map((command) => {
    const run = spawnSync(WRANGLER, command, { env, encoding: "utf8" });
    if (run.status !== 0) {
      process.stderr.write(`${run.stdout}${run.stderr}`);
      throw new Error(`migrating ${command[3]} failed`);
    }
    return `${command[3]}: ${/No migrations to apply/.test(run.stdout) ? "up to date" : "migrations applied"}`;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [mode, ...extra] = process.argv.slice(2);
  if (mode !== "--local" && mode !== "--remote") {
    console.error("usage: migrate.mjs --local|--remote [wrangler arguments]");
    process.exit(2);
  }
  // The top level's ids are placeholders for local development: a remote migration names its environment.
  if (mode === "--remote" && !extra.includes("--env")) {
    console.error("name the environment: --remote --env staging|production");
    process.exit(2);
  }
  try {
    for (const line of migrateAll(mode, extra, { ...process.env, WRANGLER_SEND_METRICS: "false" })) console.log(line);
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
