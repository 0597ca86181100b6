import { findMove, type MoveRow } from "../../src/db/moves";
import type { MoveContext } from "../../src/services/tenant-move";
import { cronContext, type DatabaseName, testDatabases } from "./databases";

/** A move context as the queue consumer builds it, at `now`; steps are driven by the test, so nothing is sent. */
export const moveContext = (
  now = Date.now(),
  bindings: Partial<Record<DatabaseName, D1Database>> = {},
): MoveContext => ({
  ...cronContext(now, bindings),
  actor: "admin",
  schedule: async () => {},
});

/** The tenant's latest move, as the control database holds it. */
export const moveOf = async (tenantId: string) => (await findMove(testDatabases().control, tenantId)) as MoveRow;
