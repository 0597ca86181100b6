/**
 * The model the history quota's default comes from (migrations/0018; docs/limits.md states it, generated from
 * here): a tenant at the default user quota after its initial sync, with a share of its users changing every day,
 * its feed and audit log kept for their retention periods. Bytes per row are what the history quota counts for
 * Entra's requests (test/fixtures/entra.ts), rounded up; test/history-quota.test.ts measures them and fails if one
 * is larger.
 */
export const HISTORY_MODEL = {
  /** Share of the users changed each day. */
  churnPerDay: 0.05,
  /** For enterprise attributes and group changes the fixtures do not carry. */
  headroom: 1.25,
  bytes: { createdEvent: 900, createdAudit: 600, updatedEvent: 1100, updatedAudit: 400 },
} as const;

/**
 * The history a tenant of `users` keeps at most: its initial sync (one event and one audit row per user), then a
 * day's changes held for the feed's `feedDays` and the audit log's `auditDays`, with the model's headroom.
 */
export function modelledHistoryBytes(users: number, feedDays: number, auditDays: number) {
  const { churnPerDay, headroom, bytes } = HISTORY_MODEL;
  const sync = users * (bytes.createdEvent + bytes.createdAudit);
  const churn = users * churnPerDay * (feedDays * bytes.updatedEvent + auditDays * bytes.updatedAudit);
  return Math.ceil((sync + churn) * headroom);
}
