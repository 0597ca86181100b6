#!/usr/bin/env node
// `npm run conformance`: runs Microsoft's and Okta's SCIM suites (../shared/external) with newman against a
// fresh `wrangler dev` (own port, own local state), one new tenant per suite, then compares the failed assertions
// with the documented exceptions in test/conformance/expected-failures.json. Exit 1 on any other failure.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const runner = resolve(process.env.SCIM_SUITES ?? "../shared/external/run-external-suites.sh");
if (!existsSync(runner)) {
  console.error(`External suites not found at ${runner} (set SCIM_SUITES to run-external-suites.sh).`);
  process.exit(2);
}
const expected = JSON.parse(readFileSync("test/conformance/expected-failures.json", "utf8"));
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1" };
const state = mkdtempSync(join(tmpdir(), "scim-conformance-"));
const outDir = join(state, "reports");
const adminKey = randomBytes(24).toString("base64url");
const port = await freePort();
const origin = `http://127.0.0.1:${port}`;

const migrate = spawnSync(
  "node_modules/.bin/wrangler",
  ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state],
  { env, encoding: "utf8" },
);
if (migrate.status !== 0) fail(`migrations failed:\n${migrate.stderr}`);

const server = spawn(
  "node_modules/.bin/wrangler",
  [
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--persist-to",
    state,
    "--var",
    `ADMIN_API_KEY:${adminKey}`,
    "--log-level",
    "warn",
  ],
  { env, stdio: ["ignore", "ignore", "inherit"], detached: true },
);
const stop = () => {
  try {
    process.kill(-server.pid, "SIGTERM");
  } catch {}
};
process.on("exit", () => {
  stop();
  rmSync(state, { recursive: true, force: true });
});

try {
  await waitForServer();
  const results = [];
  results.push(runSuite("ms", await newTenant("Conformance MS")));
  const okta = await newTenant("Conformance Okta");
  bash("seed", okta);
  results.push(runSuite("okta", okta));
  let unexpected = 0;
  console.log("\nsuite  assertions  passed  failed  expected-failures  unexpected");
  for (const r of results) {
    console.log(
      `${r.suite.padEnd(6)} ${String(r.total).padStart(10)} ${String(r.passed).padStart(7)} ${String(r.failed.length).padStart(7)} ${String(r.expected.length).padStart(18)} ${String(r.unexpected.length).padStart(11)}`,
    );
    unexpected += r.unexpected.length;
  }
  for (const r of results) for (const f of r.unexpected) console.log(`UNEXPECTED ${r.suite}: ${f}`);
  for (const r of results)
    for (const f of r.stale) console.log(`now passing, remove from expected-failures.json: ${r.suite}: ${f}`);
  process.exit(unexpected > 0 ? 1 : 0);
} catch (error) {
  console.error(error);
  process.exit(1);
}

function runSuite(suite, tenant) {
  bash(suite, tenant);
  const report = JSON.parse(readFileSync(join(outDir, `${suite}.json`), "utf8"));
  const assertions = report.run.executions.flatMap((e) =>
    (e.assertions ?? []).map((a) => ({ key: `${e.item.name} › ${a.assertion}`, failed: Boolean(a.error) })),
  );
  const failed = assertions.filter((a) => a.failed).map((a) => a.key);
  const allowed = Object.keys(expected[suite] ?? {});
  return {
    suite,
    total: assertions.length,
    passed: assertions.length - failed.length,
    failed,
    expected: failed.filter((f) => allowed.includes(f)),
    unexpected: failed.filter((f) => !allowed.includes(f)),
    stale: allowed.filter((a) => !failed.includes(a) && !expected[suite][a].flaky),
  };
}

function bash(suite, tenant) {
  spawnSync("bash", [runner, suite, tenant.scimBaseUrl, tenant.token], {
    env: { ...env, OUT_DIR: outDir, NEWMAN: resolve("node_modules/.bin/newman") },
    stdio: ["ignore", process.env.VERBOSE ? "inherit" : "ignore", "inherit"],
  });
}

async function newTenant(name) {
  const call = async (path, body) => {
    const res = await withRetry(() =>
      fetch(`${origin}/admin${path}`, {
        method: "POST",
        headers: { Authorization: `Bearer ${adminKey}`, "Content-Type": "application/json" },
        body: JSON.stringify(body),
      }),
    );
    if (!res.ok) fail(`admin ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const tenant = await call("/tenants", { name, azureAdEnabled: true });
  return call(`/tenants/${tenant.id}/integrations/azure-ad`, {});
}

/** The local runtime occasionally drops a keep-alive connection between suites; a fresh one succeeds. */
async function withRetry(request) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      if (attempt === 3) throw error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function waitForServer() {
  for (let i = 0; i < 120; i++) {
    try {
      await fetch(`${origin}/admin/tenants`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  fail("wrangler dev did not start within 60 s");
}

function freePort() {
  return new Promise((resolvePort) => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port: p } = probe.address();
      probe.close(() => resolvePort(p));
    });
  });
}

function fail(message) {
  console.error(message);
  process.exit(1);
}
