import { type ControlDb, createDb, type Database, type RawDataDb, type TenantDb } from "./client";
import { fencedD1 } from "./fence";
import { relocating } from "./relocate";
import { placementNow } from "./tenants";

/**
 * The control database's binding. It is a data database too: tenants created before data databases existed keep
 * their directories there (`tenants.database` defaults to this name), and a deployment without DATA_* bindings
 * places every tenant there.
 */
export const CONTROL_DATABASE = "DB";

/** A data database's binding: DATA_<NAME> in wrangler.toml. Its binding name is its name everywhere else. */
const DATA_BINDING = /^DATA_[A-Z0-9_]+$/;

/**
 * Every use that may read or write a data database without the fence (db/fence.ts), each for every tenant the
 * database holds: a move's own steps (the source while fenced, the target before the switch), retention, the relay
 * of control-plane changes, the purge of a deleted tenant, the deployment-wide upkeep that reads across tenants, and
 * the console's tenant list (its tenants' health, one read per database).
 * The list is for the reader and the compiler (each caller names its use, so a new one is a change to this list, and
 * every unfenced access can be found by it); nothing at run time depends on it.
 */
export type UnfencedUse =
  | "move"
  | "retention"
  | "relay"
  | "purge"
  | "webhook_scan"
  | "quota_defaults"
  | "roles"
  | "statistics"
  | "tenant_health";

/**
 * The deployment's D1 databases, opened once per request (or per batch of queue messages, or cron run): the control
 * database, and every data database by name. `wrap` lets the request log meter every binding.
 */
export interface Databases {
  control: ControlDb;
  /** Every data database, the control database first, then the DATA_* bindings by name. */
  names: readonly string[];
  /** Where a tenant is placed when its creation names no database (AUTO_PLACEMENT, else every DATA_* database). */
  automatic: readonly string[];
  /**
   * A tenant's data database as its requests and readers use it: behind the fence's probe (db/fence.ts), so a reader
   * that found the tenant there a moment before its move switched databases is refused instead of reading stale rows;
   * after the switch, such a refusal follows the tenant to where the control database places it now, once
   * (db/relocate.ts).
   */
  tenant(placement: { id: string; database: string }): TenantDb;
  /**
   * The data database `name` without the fence, for one of the uses UnfencedUse lists; an unknown name is a
   * configuration error (a binding removed while in use).
   */
  unfenced(name: string, use: UnfencedUse): RawDataDb;
  has(name: string): boolean;
}

export function openDatabases(env: Env, wrap: (d1: D1Database, name: string) => D1Database = (d1) => d1): Databases {
  const bindings = new Map<string, D1Database>([[CONTROL_DATABASE, env.DB]]);
  for (const [name, value] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (DATA_BINDING.test(name) && isD1(value)) bindings.set(name, value);
  }
  const opened = new Map<string, Database>();
  const wrapped = new Map<string, D1Database>();
  const metered = (name: string) => {
    let d1 = wrapped.get(name);
    if (!d1) {
      d1 = wrap(binding(name), name);
      wrapped.set(name, d1);
    }
    return d1;
  };
  const data = (name: string) => {
    let db = opened.get(name);
    if (!db) {
      db = createDb(metered(name));
      opened.set(name, db);
    }
    return db;
  };
  const binding = (name: string) => {
    const found = bindings.get(name);
    if (!found) throw new Error(`No D1 binding for the data database ${name}`);
    return found;
  };
  const names = [...bindings.keys()];
  return {
    control: data(CONTROL_DATABASE) as ControlDb,
    names,
    // Read when a tenant is placed or the databases listed, not on every request: a mistake in the setting then
    // fails those operator calls, and no SCIM request.
    get automatic() {
      const dataBindings = names.filter((n) => n !== CONTROL_DATABASE);
      const configured = (env.AUTO_PLACEMENT ?? "")
        .split(",")
        .map((n) => n.trim())
        .filter(Boolean);
      const unknown = configured.filter((n) => !bindings.has(n));
      if (unknown.length > 0)
        throw new Error(`AUTO_PLACEMENT names databases without a binding: ${unknown.join(", ")}`);
      return configured.length > 0 ? configured : dataBindings.length > 0 ? dataBindings : [CONTROL_DATABASE];
    },
    unfenced: (name) => data(name) as RawDataDb,
    tenant: (placement) => {
      const fenced = (name: string) => fencedD1(metered(name), placement.id);
      const first = { name: placement.database, d1: fenced(placement.database) };
      const control = data(CONTROL_DATABASE) as ControlDb;
      return createDb(relocating(first, fenced, () => placementNow(control, placement.id))) as TenantDb;
    },
    has: (name) => bindings.has(name),
  };
}

/** Bindings carry no type tag at runtime: a D1 binding is what prepares statements and runs batches. */
const isD1 = (value: unknown): value is D1Database =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as D1Database).prepare === "function" &&
  typeof (value as D1Database).batch === "function";
