/**
 * The browser tests' worker: `wrangler dev` on a free port with its own local D1, KV and queues (migrated first),
 * as `npm run dev` runs it, with fresh secrets. Started once for all browser test files.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrateLocal, startWorker } from "../../scripts/lib/local-worker.mjs";

/** The vendor's product, where a setup link's returnUrl may lead (PORTAL_RETURN_ORIGINS). */
export const VENDOR_ORIGIN = "https://app.vendor.example";

let stop = () => {};
let state = "";

export async function setup({
  provide,
}: {
  provide: <K extends "origin" | "adminKey">(key: K, value: string) => void;
}) {
  state = mkdtempSync(join(tmpdir(), "scim-e2e-"));
  migrateLocal(state);
  const adminKey = randomBytes(24).toString("base64url");
  const worker = await startWorker({
    persistTo: state,
    vars: {
      ADMIN_API_KEY: adminKey,
      TOKEN_SIGNING_KEYS: randomBytes(32).toString("base64url"),
      WEBHOOK_SECRETS_KEY: randomBytes(32).toString("base64url"),
      PORTAL_RETURN_ORIGINS: VENDOR_ORIGIN,
    },
  });
  stop = worker.stop;
  provide("origin", worker.origin);
  provide("adminKey", adminKey);
}

export function teardown() {
  stop();
  rmSync(state, { recursive: true, force: true });
}

declare module "vitest" {
  export interface ProvidedContext {
    origin: string;
    adminKey: string;
  }
}
