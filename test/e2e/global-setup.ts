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

const LOGO = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="#0f766e"/><path d="M8 24 16 7l8 17h-4.2L16 15.6 12.2 24Z" fill="#fff"/><circle cx="16" cy="21" r="2.2" fill="#99f6e4"/></svg>`;

/** The vendor's brand, as a deployment sets it (docs/deploy.md): every page the tests see carries it. */
export const BRAND = {
  BRAND_NAME: "Acme HR",
  BRAND_LOGO: `data:image/svg+xml;base64,${Buffer.from(LOGO).toString("base64")}`,
  BRAND_COLOR: "#0f766e",
  BRAND_SUPPORT_URL: `${VENDOR_ORIGIN}/help/directory-sync`,
};

/** A worker's secrets, fresh for each worker a test starts, and the admin key among them for its calls. */
export function freshSecrets() {
  const adminKey = randomBytes(24).toString("base64url");
  return {
    adminKey,
    vars: {
      ADMIN_API_KEY: adminKey,
      TOKEN_SIGNING_KEYS: randomBytes(32).toString("base64url"),
      WEBHOOK_SECRETS_KEY: randomBytes(32).toString("base64url"),
    },
  };
}

let stop = () => {};
let state = "";

export async function setup({
  provide,
}: {
  provide: <K extends "origin" | "adminKey">(key: K, value: string) => void;
}) {
  state = mkdtempSync(join(tmpdir(), "scim-e2e-"));
  migrateLocal(state);
  const { adminKey, vars } = freshSecrets();
  const worker = await startWorker({
    persistTo: state,
    vars: {
      ...vars,
      PORTAL_RETURN_ORIGINS: VENDOR_ORIGIN,
      ...BRAND,
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
