import { and, desc, eq, lt } from "drizzle-orm";
import type { Database } from "./client";
import { auditEvents } from "./schema";

export interface AuditEvent {
  tenantId: string;
  at: number;
  actor: string;
  action: string;
  resourceType?: string;
  resourceId?: string;
  detail?: Record<string, unknown>;
}

/** An audit insert to put in the same batch as the change it records, so neither lands without the other. */
export function auditInsert(db: Database, event: AuditEvent) {
  return db.insert(auditEvents).values(event);
}

export function listAuditEvents(db: Database, tenantId: string, beforeId: number | undefined, limit: number) {
  return db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.tenantId, tenantId), beforeId === undefined ? undefined : lt(auditEvents.id, beforeId)))
    .orderBy(desc(auditEvents.id))
    .limit(limit + 1);
}
