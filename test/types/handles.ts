/**
 * The database handles' roles, checked by the compiler (`npm run typecheck` compiles this file; nothing runs it): each
 * store takes the one handle it may use, and passing another is an error. Every `@ts-expect-error` below must meet
 * an error: if a store came to accept the wrong handle, its line would compile and the directive itself would fail.
 */
import type { ControlDb, RawDataDb, TenantDb } from "../../src/db/client";
import { directoryUser } from "../../src/db/directory";
import { readFeed } from "../../src/db/events";
import { purgeLogBefore } from "../../src/db/retention";
import { readChunk } from "../../src/db/tenant-copy";
import { findTenant, purgeTenantDataChunk } from "../../src/db/tenants";
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
}

export function rightHandles(control: ControlDb, tenant: TenantDb, raw: RawDataDb) {
  void findTenant(control, "t");
  void directoryUser(tenant, "t", "u", 10);
  void purgeTenantDataChunk(raw, "t", 10);
}
