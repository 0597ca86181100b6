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

export async function listAuditEvents(db: Database, tenantId: string, beforeId: number | undefined, limit: number) {
  const rows = await db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.tenantId, tenantId), beforeId === undefined ? undefined : lt(auditEvents.id, beforeId)))
    .orderBy(desc(auditEvents.id))
    .limit(limit + 1);
  return page(rows, limit);
}

/** Keyset page: one extra row tells whether another page exists without a COUNT. */
export function page<T extends { id: number | string }>(rows: T[], limit: number) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next: rows.length > limit && last ? last.id : null };
}
