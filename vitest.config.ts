import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

const ADMIN_API_KEY = "test-admin-key-0123456789";
const TOKEN_SIGNING_KEYS = "test-signing-key-0123456789";
const WEBHOOK_SECRETS_KEY = "test-webhook-secrets-key-0123456789";
// Tooling tests that run wrangler for real (scripts/migrate.mjs on three local databases, about 40 s): a project of
// their own, tooling-slow, so that the tooling project takes seconds.
const SLOW_TOOLING = ["test/node/migrate-local.test.ts"];
// wrangler.toml declares both required secrets, which wrangler looks for in .dev.vars or the environment and warns
// about once per test file when absent (as in CI). The bindings below are what the tests use: they win over
// whatever a developer's .dev.vars holds.
process.env.ADMIN_API_KEY ??= ADMIN_API_KEY;
process.env.TOKEN_SIGNING_KEYS ??= TOKEN_SIGNING_KEYS;
process.env.WEBHOOK_SECRETS_KEY ??= WEBHOOK_SECRETS_KEY;

export default defineConfig(async () => ({
  test: {
    // One line per request (src/http/request-log.ts) would bury every other line the tests print. Read from the root
    // config only: the reporter, not a project, prints the logs.
    onConsoleLog: (log: string) => !log.includes('"event":"request"'),
    projects: [
      {
        // The service, inside workerd with local D1 and KV.
        plugins: [
          cloudflareTest({
            main: "./src/index.ts",
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: await readD1Migrations(fileURLToPath(new URL("./migrations", import.meta.url))),
                ADMIN_API_KEY,
                TOKEN_SIGNING_KEYS,
                WEBHOOK_SECRETS_KEY,
                // Webhook tests deliver to a receiver on loopback over http (test/support/receiver.ts).
                WEBHOOKS_ALLOW_HTTP: "true",
                // Replays a failing property-based run: FC_SEED=<seed> npm test (test/fuzz.test.ts).
                FC_SEED: process.env.FC_SEED ?? "",
              },
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/**/*.test.ts"],
          exclude: ["test/node/**", "test/unit/**", "test/e2e/**"],
          // Random order within each file (the seed is printed; --sequence.seed=<n> replays it): no test may
          // depend on what another left behind.
          sequence: { shuffle: { files: false, tests: true } },
          setupFiles: ["./test/support/apply-migrations.ts"],
          globalSetup: ["./test/support/receiver.ts", "./test/support/issuer.ts"],
        },
      },
      // The others run on Node: no runtime needed. Pure protocol code, the inner loop (npm run test:unit): seconds.
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node" } },
      // The project's tooling: scripts, the documents checked against the code, the OpenAPI document.
      { test: { name: "tooling", include: ["test/node/**/*.test.ts"], exclude: SLOW_TOOLING, environment: "node" } },
      { test: { name: "tooling-slow", include: SLOW_TOOLING, environment: "node" } },
    ],
  },
}));
