import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Each test file gets fresh storage; applying is idempotent, so running it per file is safe.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
