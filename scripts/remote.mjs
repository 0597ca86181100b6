#!/usr/bin/env node
// The remote side of a deployment, as thin commands around wrangler (nothing here can run on a machine without
// Cloudflare credentials; `--dry-run` prints what would run):
//
//   npm run setup:remote -- --env production   the first deploy: creates the D1 databases (control and data), the KV
//                                              namespace and the queues the environment declares, writes their ids
//                                              into wrangler.toml, migrates every database, and deploys with the
//                                              secrets it does not have yet (random values, uploaded with the
//                                              version; the admin key is printed once)
//   npm run deploy -- --env production         every later deploy: migrations on every database, then the code
//
// Steps that already happened are skipped (an id that is no longer a placeholder, a queue that exists, a secret the
// Worker has), so a setup that failed part way is simply run again.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";
import { SCIM_CONFIG, SCIM_SECRETS, writeScimWorkerConfig } from "./lib/scim-worker.mjs";

const WRANGLER = "node_modules/.bin/wrangler";
const CONFIG = new URL("../wrangler.toml", import.meta.url);
/** The ids wrangler.toml carries until setup writes real ones. */
const PLACEHOLDER = /^0+(-0+)*$/;
const SECRETS_SIZE = 32;

/** `--env NAME` from the arguments, which must name one of wrangler.toml's environments: never the top level. */
export function environmentOf(configText, args) {
  const at = args.indexOf("--env");
  const name = at >= 0 ? args[at + 1] : undefined;
  const envs = Object.keys(parse(configText).env ?? {});
  if (!name || !envs.includes(name)) {
    throw new Error(`name the environment: --env ${envs.join("|")} (the top level is for local development)`);
  }
  return name;
}

/** What the environment declares that setup creates: databases, the KV namespace, queues, required secrets. */
export function resourcesOf(configText, envName) {
  const config = parse(configText);
  const env = config.env[envName];
  const queues = new Set();
  for (const p of env.queues?.producers ?? []) queues.add(p.queue);
  for (const c of env.queues?.consumers ?? []) {
    queues.add(c.queue);
    if (c.dead_letter_queue) queues.add(c.dead_letter_queue);
  }
  return {
    databases: (env.d1_databases ?? []).map((d) => ({
      binding: d.binding,
      name: d.database_name,
      created: !PLACEHOLDER.test(d.database_id),
    })),
    kv: (env.kv_namespaces ?? []).map((k) => ({ binding: k.binding, created: !PLACEHOLDER.test(k.id) })),
    queues: [...queues],
    secrets: env.secrets?.required ?? [],
  };
}

/**
 * The text of wrangler.toml with `id` written into the `field` of the block `[[env.<env>.<table>]]` whose binding
 * is `binding`: a line edit, so the file's comments and layout stay as they are.
 */
export function writeId(configText, { envName, table, binding, field, id }) {
  const header = `[[env.${envName}.${table}]]`;
  const lines = configText.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== header) continue;
    let end = i + 1;
    while (end < lines.length && !lines[end].trim().startsWith("[")) end++;
    const block = lines.slice(i + 1, end);
    if (!block.some((l) => l.trim() === `binding = "${binding}"`)) continue;
    const at = block.findIndex((l) => l.trim().startsWith(`${field} =`));
    if (at < 0) throw new Error(`${header} for ${binding} has no ${field}`);
    lines[i + 1 + at] = `${field} = "${id}"`;
    return lines.join("\n");
  }
  throw new Error(`no ${header} with binding ${binding}`);
}

/** The id wrangler prints for a database or namespace it created (as TOML or JSON, depending on its version). */
export function createdId(output, field) {
  const found = new RegExp(`\\b${field}"?\\s*[:=]\\s*"([0-9a-f-]{32,36})"`).exec(output);
  if (!found) throw new Error(`no ${field} in wrangler's output:\n${output}`);
  return found[1];
}

/**
 * Every database's migrations, then the two workers (src/scim-worker.ts): the app worker first, which the SCIM
 * worker's service binding names, then the SCIM worker, each with the names of the secrets to generate and upload
 * with its version (`secrets.app`, `secrets.scim`; a secret both get has one value): what `npm run deploy` runs, and
 * how setup ends.
 */
export const deploySteps = (envName, secrets = { app: [], scim: [] }) => [
  { run: ["node", "scripts/migrate.mjs", "--remote", "--env", envName] },
  { run: [WRANGLER, "deploy", "--env", envName], ...(secrets.app.length > 0 ? { secrets: secrets.app } : {}) },
  {
    run: [WRANGLER, "deploy", "--config", SCIM_CONFIG, "--env", envName],
    ...(secrets.scim.length > 0 ? { secrets: secrets.scim } : {}),
  },
];

/**
 * The secrets each worker still needs (`existing`: what each has). The SCIM worker verifies what the app worker
 * signs, so a secret is made up for it only along with the app worker's. One the app worker has and the SCIM worker
 * lacks (a deployment from before the split, or a setup stopped between the two deploys) cannot be: its value is
 * the operator's to put, and until then the SCIM worker passes every request on (src/scim-worker.ts), so the deploy
 * goes on with a warning. The reverse would sign with a key the SCIM worker does not know: refused.
 */
export function missingSecrets(envName, required, existing) {
  const app = required.filter((s) => !existing.app.includes(s));
  const scim = required.filter((s) => SCIM_SECRETS.includes(s) && !existing.scim.includes(s));
  const orphaned = app.filter((s) => SCIM_SECRETS.includes(s) && !scim.includes(s));
  if (orphaned.length > 0) {
    throw new Error(
      `the app worker has no ${orphaned.join(", ")}, which the SCIM worker has: put the same value with ` +
        orphaned.map((s) => `\`wrangler secret put ${s} --env ${envName}\``).join(", "),
    );
  }
  const unmatched = scim.filter((s) => !app.includes(s));
  const warnings = unmatched.map(
    (s) =>
      `the SCIM worker has no ${s}, which the app worker has: until \`wrangler secret put ${s} --config ` +
      `${SCIM_CONFIG} --env ${envName}\` puts the same value, it passes every request to the app worker ` +
      '(docs/deploy.md, "Upgrading to two workers")',
  );
  return { app, scim: scim.filter((s) => app.includes(s)), warnings };
}

/** The first deploy, step by step, from the config as it stands (ids already written and `existing` secrets skipped). */
export function setupSteps(configText, envName, existing = { app: [], scim: [] }) {
  const { databases, kv, queues, secrets } = resourcesOf(configText, envName);
  return [
    ...databases
      .filter((d) => !d.created)
      .map((d) => ({
        run: [WRANGLER, "d1", "create", d.name],
        record: { table: "d1_databases", binding: d.binding, field: "database_id" },
      })),
    ...kv
      .filter((k) => !k.created)
      .map((k) => ({
        run: [WRANGLER, "kv", "namespace", "create", k.binding, "--env", envName],
        record: { table: "kv_namespaces", binding: k.binding, field: "id" },
      })),
    // A queue that exists already is fine: queues are shared by name on the account.
    ...queues.map((q) => ({ run: [WRANGLER, "queues", "create", q], existsIf: "queue" })),
    ...deploySteps(envName, missingSecrets(envName, secrets, existing)),
  ];
}

/**
 * What Cloudflare answers when a resource is there already (a queue's name is taken: code 11009) or absent (the
 * Worker before its first deploy: code 10007), as wrangler prints it.
 */
export const ANSWERS = {
  queue: /already (exists|taken)|\[code: 11009\]/i,
  noWorker: /does not exist|not found|\[code: 10007\]/i,
};

function wrangler(args, existsIf) {
  const run = spawnSync(args[0], args.slice(1), {
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  const output = `${run.stdout}${run.stderr}`;
  if (run.status !== 0 && !(existsIf && ANSWERS[existsIf].test(output))) {
    throw new Error(`${args.join(" ")} failed:\n${output}`);
  }
  return run.stdout;
}

/**
 * The secrets each of the environment's workers has: none before its first deploy. Any other failure stops the
 * setup: taking it for "none" would upload new signing and sealing keys over the live ones.
 */
function existingSecrets(envName) {
  const listed = (config) => {
    try {
      const args = [WRANGLER, "secret", "list", "--env", envName, "--format", "json", ...config];
      return JSON.parse(wrangler(args) || "[]").map((s) => s.name);
    } catch (error) {
      if (ANSWERS.noWorker.test(String(error))) return [];
      throw error;
    }
  };
  return { app: listed([]), scim: listed(["--config", SCIM_CONFIG]) };
}

/**
 * A deploy's secrets file: a value for each of `secrets` (random, made once per run and shared by both workers'
 * deploys), in a folder only this run knows and deletes. The admin key is printed once: the operator needs it; the
 * others only the workers read.
 */
function withSecretsFile(run, secrets, values) {
  const dir = mkdtempSync(join(tmpdir(), "edge-scim-secrets-"));
  try {
    for (const name of secrets) {
      if (values[name]) continue;
      values[name] = randomBytes(SECRETS_SIZE).toString("base64url");
      // Before the deploy: if it uploads the version and then fails (a trigger, a consumer), the key is live already.
      if (name === "ADMIN_API_KEY") {
        console.log(`ADMIN_API_KEY uploaded with this deploy (shown once, keep it safe): ${values[name]}`);
      }
    }
    const file = Object.fromEntries(secrets.map((name) => [name, values[name]]));
    writeFileSync(join(dir, "secrets.json"), JSON.stringify(file), { mode: 0o600 });
    run(["--secrets-file", join(dir, "secrets.json")]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runSteps(steps, envName, dryRun) {
  const values = {};
  for (const step of steps) {
    const secrets = step.secrets ? ` (with new secrets: ${step.secrets.join(", ")})` : "";
    console.log(`${dryRun ? "would run" : "running"}: ${step.run.join(" ")}${secrets}`);
    if (dryRun) continue;
    // Written again from wrangler.toml as it stands: a setup's earlier steps may just have written ids into it.
    if (step.run.includes(SCIM_CONFIG)) writeScimWorkerConfig(fileURLToPath(CONFIG));
    if (step.secrets) {
      withSecretsFile((extra) => wrangler([...step.run, ...extra]), step.secrets, values);
      continue;
    }
    const output = wrangler(step.run, step.existsIf);
    if (step.record) {
      const id = createdId(output, step.record.field);
      writeFileSync(CONFIG, writeId(readFileSync(CONFIG, "utf8"), { envName, ...step.record, id }));
      console.log(`  ${step.record.binding}: ${id} (written to wrangler.toml)`);
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [command, ...args] = process.argv.slice(2);
  const dryRun = args.includes("--dry-run");
  try {
    const config = readFileSync(CONFIG, "utf8");
    const envName = environmentOf(config, args);
    writeScimWorkerConfig(fileURLToPath(CONFIG));
    if (command === "setup") {
      const existing = dryRun ? undefined : existingSecrets(envName);
      if (existing) {
        const { warnings } = missingSecrets(envName, resourcesOf(config, envName).secrets, existing);
        for (const warning of warnings) console.warn(`warning: ${warning}`);
      }
      runSteps(setupSteps(config, envName, existing), envName, dryRun);
    } else if (command === "deploy") {
      if (!dryRun) {
        const { warnings } = missingSecrets(envName, resourcesOf(config, envName).secrets, existingSecrets(envName));
        for (const warning of warnings) console.warn(`warning: ${warning}`);
      }
      runSteps(deploySteps(envName), envName, dryRun);
    } else {
      throw new Error("usage: remote.mjs setup|deploy --env NAME [--dry-run]");
    }
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
