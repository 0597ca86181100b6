#!/usr/bin/env node
// `npm run conformance`: runs Microsoft's and Okta's SCIM suites (../shared/external) with newman against a fresh
// `wrangler dev` (own port, own local state), one new tenant per suite with an integration of the suite's provider,
// then compares the failed assertions with the documented exceptions in test/conformance/expected-failures.json.
// Exit 1 on any other failure.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { adminCall, migrateLocal, startWorker, WRANGLER_ENV } from "./lib/local-worker.mjs";

const runner = resolve(process.env.SCIM_SUITES ?? "../shared/external/run-external-suites.sh");
if (!existsSync(runner)) {
  console.error(`External suites not found at ${runner} (set SCIM_SUITES to run-external-suites.sh).`);
  process.exit(2);
}
const expected = JSON.parse(readFileSync("test/conformance/expected-failures.json", "utf8"));
const state = mkdtempSync(join(tmpdir(), "scim-conformance-"));
const outDir = join(state, "reports");
const adminKey = randomBytes(24).toString("base64url");
process.on("exit", () => rmSync(state, { recursive: true, force: true }));

migrateLocal(state);
const server = await startWorker({
  persistTo: state,
  vars: { ADMIN_API_KEY: adminKey, TOKEN_SIGNING_KEYS: randomBytes(32).toString("base64url") },
});

try {
  // Each suite against an integration of its own provider, at its own base URL (…/scim/v2/{tenant}/i/{id}); the
  // tenant's own URL, the legacy integration's, routes to the same code and is what the other test suites call.
  const results = [runSuite("ms", await newTenant("Conformance MS", "entra"))];
  const okta = await newTenant("Conformance Okta", "okta");
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
  server.stop();
  process.exit(unexpected > 0 ? 1 : 0);
} catch (error) {
  console.error(error);
  server.stop();
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
    env: { ...WRANGLER_ENV, OUT_DIR: outDir, NEWMAN: resolve("node_modules/.bin/newman") },
    stdio: ["ignore", process.env.VERBOSE ? "inherit" : "ignore", "inherit"],
  });
}

async function newTenant(name, provider) {
  const tenant = await adminCall(server.origin, adminKey, "POST", "/tenants", { name, integrationsEnabled: true });
  const integration = await adminCall(server.origin, adminKey, "POST", `/tenants/${tenant.id}/integrations`, {
    provider,
  });
  if (!integration.scimBaseUrl?.includes("/i/")) throw new Error(`no integration URL: ${JSON.stringify(integration)}`);
  return integration;
}
