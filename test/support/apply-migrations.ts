import { applyAllMigrations } from "./databases";

// Each test file gets fresh storage; applying is idempotent, so running it per file is safe.
await applyAllMigrations();
