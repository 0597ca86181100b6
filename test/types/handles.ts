/**
 * The database handles' roles, checked by the compiler (`npm run typecheck` compiles this file; nothing runs it): each
 * store takes the one handle it may use, and passing another is an error. Every `@ts-expect-error` below must meet
 * an error: if a store came to accept the wrong handle, its line would compile and the directive itself would fail.
 */
import { expectTypeOf } from "vitest";
import { runBatch } from "../../src/db/batch";
import type { ControlDb, RawDataDb, TenantDb } from "../../src/db/client";
import { directoryUser } from "../../src/db/directory";
import { readFeed } from "../../src/db/events";
import { fenceTenant } from "../../src/db/fence";
import { purgeLogBefore } from "../../src/db/retention";
import { holdCopy, readChunk } from "../../src/db/tenant-copy";
import { findTenant, purgeTenantControlStatements, purgeTenantDataChunk } from "../../src/db/tenants";
import { findLiveTokenByHash } from "../../src/db/tokens";

export function wrongHandles(control: ControlDb, tenant: TenantDb, raw: RawDataDb) {
  // The control database's stores take the control database only.
  // @ts-expect-error a tenant's data database is not the control database
  void findTenant(tenant, "t");
  // @ts-expect-error nor is a raw data database
  void findLiveTokenByHash(raw, "hash", 0);

  // A tenant's readers take its fenced handle: neither the control database nor one without the fence.
  // @ts-expect-error the control database holds no directory (its DB binding's data is reached as a data database)
  void directoryUser(control, "t", "u", 10);
  // @ts-expect-error a raw data database would skip the fence
  void readFeed(raw, "t", { after: 0, limit: 10 });

  // Moves, retention and purges take a raw data database, never a tenant's fenced one (their writes would be refused
  // mid-move) nor the control database.
  // @ts-expect-error a tenant's fenced handle
  void purgeTenantDataChunk(tenant, "t", 10);
  // @ts-expect-error the control database
  void purgeLogBefore(control, "audit_events", 0, 10);
  // @ts-expect-error a tenant's fenced handle
  void readChunk(tenant, "t", {} as never, null);

  // Statements built for one kind of database run on that kind only.
  // @ts-expect-error the fence belongs in a data database, never the control database
  void runBatch(control, [fenceTenant("t", "DATA_1", 0)]);
  // @ts-expect-error a move's copy is written through the raw handle, not a tenant's fenced one
  void runBatch(tenant, [holdCopy("t", "lease")]);
  // @ts-expect-error a tenant's deletion from the control database
  void runBatch(raw, purgeTenantControlStatements("t"));
}

/**
 * Each store's handle exactly: a `@ts-expect-error` above is met by any error (a changed arity too), so the
 * parameter each store declares is pinned here as well.
 */
export function declaredHandles() {
  expectTypeOf<Parameters<typeof findTenant>[0]>().toEqualTypeOf<ControlDb>();
  expectTypeOf<Parameters<typeof findLiveTokenByHash>[0]>().toEqualTypeOf<ControlDb>();
  expectTypeOf<Parameters<typeof directoryUser>[0]>().toEqualTypeOf<TenantDb>();
  expectTypeOf<Parameters<typeof readFeed>[0]>().toEqualTypeOf<TenantDb>();
  expectTypeOf<Parameters<typeof purgeTenantDataChunk>[0]>().toEqualTypeOf<RawDataDb>();
  expectTypeOf<Parameters<typeof purgeLogBefore>[0]>().toEqualTypeOf<RawDataDb>();
  expectTypeOf<Parameters<typeof readChunk>[0]>().toEqualTypeOf<RawDataDb>();
}

export function rightHandles(control: ControlDb, tenant: TenantDb, raw: RawDataDb) {
  void findTenant(control, "t");
  void directoryUser(tenant, "t", "u", 10);
  void purgeTenantDataChunk(raw, "t", 10);
  void runBatch(raw, [fenceTenant("t", "DATA_1", 0), holdCopy("t", "lease")]);
  void runBatch(control, purgeTenantControlStatements("t"));
}
