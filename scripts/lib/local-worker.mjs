// Starting and stopping a worker under `wrangler dev` for scripts (conformance, bench): own port, own local state.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { parse } from "smol-toml";
import { d1Bindings } from "../migrate.mjs";
import { scimWorkerConfig } from "./scim-worker.mjs";

export const WRANGLER_ENV = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  NO_COLOR: "1",
};
const WRANGLER = "node_modules/.bin/wrangler";

export function freePort() {
  return new Promise((resolvePort) => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolvePort(port));
    });
  });
}

/** `wrangler <command> …` against the local state in `persistTo`; throws with wrangler's output on failure. */
function local(command, persistTo, args, config) {
  const run = spawnSync(
    WRANGLER,
    [command, ...args, "--local", "--persist-to", persistTo, ...(config ? ["--config", config] : [])],
    { env: WRANGLER_ENV, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  if (run.status !== 0) throw new Error(`wrangler ${command} ${args.join(" ")} failed:\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

/** `wrangler d1 …` against the local state in `persistTo`. */
export const d1 = (persistTo, args, config) => local("d1", persistTo, args, config);

/** `wrangler kv …` against the local state in `persistTo`. */
export const kv = (persistTo, args, config) => local("kv", persistTo, args, config);

/** The migrations on every D1 database of `config` (default: wrangler.toml), in the local state at `persistTo`. */
export function migrateLocal(persistTo, config) {
  for (const binding of d1Bindings(readFileSync(config ?? "wrangler.toml", "utf8"))) {
    d1(persistTo, ["migrations", "apply", binding], config);
  }
}

/**
 * The two workers' configs for a local run, written as JSON into `dir`: the app worker's (`config`, wrangler.toml by
 * default, its paths made absolute) with `vars` among its variables, and the SCIM worker's derived from it
 * (scripts/lib/scim-worker.mjs). Variables go into the configs rather than `--var`, which reaches only the first
 * worker, and .dev.vars, which wrangler filters by what the config declares. Returns the paths in the order
 * `wrangler dev` takes them: the SCIM worker first, which answers every request and passes on what is not Entra's.
 */
export function writeLocalConfigs(dir, { config = "wrangler.toml", vars = {} } = {}) {
  const base = dirname(resolve(config));
  const absolute = (path) => (isAbsolute(path) ? path : join(base, path));
  const app = parse(readFileSync(config, "utf8"));
  // Locally the secrets are variables too (a name cannot be both).
  delete app.env;
  delete app.secrets;
  app.main = absolute(app.main);
  app.alias = Object.fromEntries(Object.entries(app.alias ?? {}).map(([name, path]) => [name, absolute(path)]));
  for (const d of app.d1_databases ?? []) if (d.migrations_dir) d.migrations_dir = absolute(d.migrations_dir);
  app.vars = { ...app.vars, ...vars };
  mkdirSync(dir, { recursive: true });
  const appPath = join(dir, "wrangler.app.json");
  writeFileSync(appPath, JSON.stringify(app, null, 2));
  // A worker without a SCIM worker beside its entry (the benchmarks' floor, a baseline from before the split) runs
  // alone.
  const scim = scimWorkerConfig(app);
  if (!existsSync(scim.main)) return [appPath];
  const scimPath = join(dir, "wrangler.scim.json");
  writeFileSync(scimPath, JSON.stringify(scim, null, 2));
  return [scimPath, appPath];
}

/**
 * Starts the SCIM worker and the app worker under one `wrangler dev` (writeLocalConfigs, in `persistTo`) and
 * resolves once they answer. A free port can be taken between probing and binding (the runtime opens ports of its
 * own), and wrangler then exits: that start is retried on another port. The returned `stop()` ends the whole
 * process group (wrangler, esbuild, workerd).
 */
export async function startWorker(options, attempts = 3) {
  const { persistTo, vars = {}, config, ready = "/" } = options;
  const port = await freePort();
  // One folder per start: workers sharing the state (the benchmarks' floor beside the service) each watch their own.
  const configs = writeLocalConfigs(join(persistTo, "config", String(port)), { config, vars });
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persistTo, "--log-level", "warn"];
  for (const path of configs) args.push("--config", path);
  const child = spawn(WRANGLER, args, { env: WRANGLER_ENV, stdio: ["ignore", "ignore", "inherit"], detached: true });
  let exited = false;
  child.on("exit", () => {
    exited = true;
  });
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
  };
  process.on("exit", stop);
  const origin = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 120 && !exited; i++) {
    try {
      await fetch(`${origin}${ready}`);
      if (!exited) return { origin, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  stop();
  if (exited && attempts > 1) return startWorker(options, attempts - 1);
  throw new Error("wrangler dev did not start within 60 s");
}

/** The local runtime occasionally drops a keep-alive connection; a fresh one succeeds. */
export async function withRetry(request) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      if (attempt === 3) throw error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Admin API call with the given key; throws on a non-2xx answer. */
export async function adminCall(origin, key, method, path, body) {
  const res = await withRetry(() =>
    fetch(`${origin}/admin${path}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
  if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}
