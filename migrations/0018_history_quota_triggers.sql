-- The history quota (#27): what a tenant's writes make the service keep besides the directory itself, its change
-- feed, audit log and failed-request log within their retention, counted as rows are written and freed as
-- retention purges them, by triggers in the statement that writes or deletes the row (no scan ever counts it).
--
-- A row counts the UTF-8 bytes of its variable columns plus 256 for its keys, numbers and index entries (measured:
-- a data database grows by 1.2–1.6 times what is counted; test/history-quota.test.ts holds it under 2).
--
-- Only a growth event is refused past the limit: the event insert raises, which undoes the whole batch of the
-- write it records (the batch is the transaction). Events that only remove access (a deactivation, a deletion, a
-- member removed) and the control plane's (relayed, never refusable) are always admitted, and so are audit rows
-- and failed requests: they are counted, and the event of the same write decides. The refused types are the event
-- registry's (`atHistoryLimit: "refused"`, src/events/registry.ts); test/history-quota.test.ts compares this list
-- with it.

-- A fresh deployment's default (docs/limits.md states the formula it comes from; test/history-quota.test.ts checks
-- it against the bytes measured per event and audit row). An existing deployment gets it too: it had no limit.
UPDATE `quota_defaults` SET `max_history_bytes` = 3221225472 WHERE `id` = 1 AND `max_history_bytes` IS NULL;
--> statement-breakpoint

-- Usage of the history already kept (an upsert: counters and limits of other quotas stay).
INSERT INTO `tenant_quotas` (`tenant_id`, `feed_bytes`, `log_bytes`)
SELECT `tenant_id`, sum(`feed`), sum(`log`) FROM (
  SELECT `tenant_id`, sum(length(CAST(`data` AS BLOB)) + coalesce(length(CAST(`resource` AS BLOB)), 0) + 256) AS `feed`,
    0 AS `log`
  FROM `events` GROUP BY `tenant_id`
  UNION ALL
  SELECT `tenant_id`, 0, sum(length(CAST(`actor` AS BLOB)) + length(CAST(`action` AS BLOB))
    + coalesce(length(CAST(`resource_id` AS BLOB)), 0) + coalesce(length(CAST(`detail` AS BLOB)), 0) + 256)
  FROM `audit_events` GROUP BY `tenant_id`
  UNION ALL
  SELECT `tenant_id`, 0, sum(length(CAST(`path` AS BLOB)) + coalesce(length(CAST(`detail` AS BLOB)), 0)
    + coalesce(length(CAST(`fingerprint` AS BLOB)), 0) + 256)
  FROM `failed_requests` GROUP BY `tenant_id`
) WHERE true GROUP BY `tenant_id`
ON CONFLICT (`tenant_id`) DO UPDATE SET `feed_bytes` = excluded.`feed_bytes`, `log_bytes` = excluded.`log_bytes`;
--> statement-breakpoint

-- Each tenant's usage and the limits in force, now with the history quota and what has been signalled.
DROP VIEW `tenant_quota_limits`;
--> statement-breakpoint
CREATE VIEW `tenant_quota_limits` AS
SELECT q.`tenant_id`, q.`user_count`, q.`group_count`, q.`stored_bytes`,
  q.`feed_bytes` + q.`log_bytes` AS `history_bytes`,
  coalesce(q.`max_users`, d.`max_users`) AS `max_users`,
  coalesce(q.`max_groups`, d.`max_groups`) AS `max_groups`,
  coalesce(q.`max_bytes`, d.`max_bytes`) AS `max_bytes`,
  coalesce(q.`max_history_bytes`, d.`max_history_bytes`) AS `max_history_bytes`,
  q.`signalled`
FROM `tenant_quotas` q LEFT JOIN `quota_defaults` d ON d.`id` = 1;
--> statement-breakpoint

-- Each quota of each tenant as one row: its usage, limit, the level reached (95, 80 or 0 %), the level already
-- signalled, and the level to remember as signalled from now on (`kept`): the level reached, or the one signalled
-- until usage falls 5 points below it (so a tenant hovering at a level is not signalled on every write). A limit of
-- 0 or none has no levels.
CREATE VIEW `tenant_quota_levels` AS
SELECT *, CASE WHEN `level` >= `signalled` THEN `level`
    WHEN `used` * 100 >= `lim` * (`signalled` - 5) THEN `signalled` ELSE `level` END AS `kept`
FROM (SELECT `tenant_id`, `name`, `used`, `lim`, `signalled`,
  CASE WHEN `lim` IS NULL OR `lim` <= 0 THEN 0 WHEN `used` * 100 >= `lim` * 95 THEN 95
    WHEN `used` * 100 >= `lim` * 80 THEN 80 ELSE 0 END AS `level`
FROM (
  SELECT l.`tenant_id`, n.`name`,
    CASE n.`name` WHEN 'users' THEN l.`user_count` WHEN 'groups' THEN l.`group_count`
      WHEN 'bytes' THEN l.`stored_bytes` ELSE l.`history_bytes` END AS `used`,
    CASE n.`name` WHEN 'users' THEN l.`max_users` WHEN 'groups' THEN l.`max_groups`
      WHEN 'bytes' THEN l.`max_bytes` ELSE l.`max_history_bytes` END AS `lim`,
    coalesce(l.`signalled` ->> n.`name`, 0) AS `signalled`
  FROM `tenant_quota_limits` l
  CROSS JOIN (SELECT 'users' AS `name` UNION ALL SELECT 'groups' UNION ALL SELECT 'bytes'
    UNION ALL SELECT 'historyBytes') n
));
--> statement-breakpoint

-- Signals before refusals: when a quota's usage first reaches 80 % and 95 % of its limit, one
-- `quota.threshold_reached` event, in the statement that made it so; `signalled` keeps the levels in force (only
-- those above 0, so a tenant that never came near a limit keeps '{}'). Fires on growth and on a changed limit.
-- `feed_bytes` is not among the columns: counting an event must not write another while the multi-row INSERT that
-- numbered the first is still running (it would take a sequence that INSERT has already given out); the feed's part
-- of the history is seen at the write's audit row, which every write has.
CREATE TRIGGER `tenant_quotas_signal`
AFTER UPDATE OF `user_count`, `group_count`, `stored_bytes`, `log_bytes`, `max_users`, `max_groups`, `max_bytes`,
  `max_history_bytes` ON `tenant_quotas`
WHEN (NEW.`user_count` > OLD.`user_count` OR NEW.`group_count` > OLD.`group_count`
  OR NEW.`stored_bytes` > OLD.`stored_bytes` OR NEW.`log_bytes` > OLD.`log_bytes`
  OR NEW.`max_users` IS NOT OLD.`max_users` OR NEW.`max_groups` IS NOT OLD.`max_groups`
  OR NEW.`max_bytes` IS NOT OLD.`max_bytes` OR NEW.`max_history_bytes` IS NOT OLD.`max_history_bytes`)
  -- Only near a limit (or with a level to re-arm): every write of a tenant far from its limits skips the body.
  AND (NEW.`signalled` <> '{}' OR EXISTS (SELECT 1 FROM `quota_defaults` d WHERE d.`id` = 1
    AND (NEW.`user_count` * 100 >= 80 * coalesce(NEW.`max_users`, d.`max_users`)
      OR NEW.`group_count` * 100 >= 80 * coalesce(NEW.`max_groups`, d.`max_groups`)
      OR NEW.`stored_bytes` * 100 >= 80 * coalesce(NEW.`max_bytes`, d.`max_bytes`)
      OR (NEW.`feed_bytes` + NEW.`log_bytes`) * 100 >= 80 * coalesce(NEW.`max_history_bytes`, d.`max_history_bytes`))))
BEGIN
  INSERT INTO `events` (`tenant_id`, `sequence`, `id`, `type`, `occurred_at`, `resource`, `data`)
  SELECT NEW.`tenant_id`,
    max(coalesce((SELECT max(`sequence`) FROM `events` WHERE `tenant_id` = NEW.`tenant_id`), 0),
      coalesce((SELECT `purged_through` FROM `event_feeds` WHERE `tenant_id` = NEW.`tenant_id`), 0))
      + row_number() OVER (ORDER BY q.`name`),
    'evt_' || lower(hex(randomblob(16))), 'quota.threshold_reached', CAST(unixepoch('subsec') * 1000 AS INTEGER),
    NULL, json_object('quota', q.`name`, 'percent', q.`level`, 'used', q.`used`, 'limit', q.`lim`)
  FROM `tenant_quota_levels` q WHERE q.`tenant_id` = NEW.`tenant_id` AND q.`level` > q.`signalled`;
  UPDATE `tenant_quotas` SET `signalled` = (SELECT json_group_object(q.`name`, q.`kept`) FROM `tenant_quota_levels` q
    WHERE q.`tenant_id` = NEW.`tenant_id` AND q.`kept` > 0)
  WHERE `tenant_id` = NEW.`tenant_id`;
END;
--> statement-breakpoint

-- Falling usage re-arms a level signalled before (it writes no event: a purge of a fenced tenant's rows must not
-- write to its feed), for tenants with a level in force only: retention's purges otherwise just count.
CREATE TRIGGER `tenant_quotas_rearm`
AFTER UPDATE OF `user_count`, `group_count`, `stored_bytes`, `feed_bytes`, `log_bytes` ON `tenant_quotas`
WHEN NEW.`signalled` <> '{}' AND (NEW.`user_count` < OLD.`user_count` OR NEW.`group_count` < OLD.`group_count`
  OR NEW.`stored_bytes` < OLD.`stored_bytes` OR NEW.`feed_bytes` < OLD.`feed_bytes` OR NEW.`log_bytes` < OLD.`log_bytes`)
BEGIN
  UPDATE `tenant_quotas` SET `signalled` = (SELECT json_group_object(q.`name`, q.`kept`) FROM `tenant_quota_levels` q
    WHERE q.`tenant_id` = NEW.`tenant_id` AND q.`kept` > 0)
  WHERE `tenant_id` = NEW.`tenant_id`;
END;
--> statement-breakpoint

CREATE TRIGGER `events_history_insert` AFTER INSERT ON `events` BEGIN
  INSERT INTO `tenant_quotas` (`tenant_id`) VALUES (NEW.`tenant_id`) ON CONFLICT DO NOTHING;
  UPDATE `tenant_quotas` SET `feed_bytes` = `feed_bytes`
    + length(CAST(NEW.`data` AS BLOB)) + coalesce(length(CAST(NEW.`resource` AS BLOB)), 0) + 256
  WHERE `tenant_id` = NEW.`tenant_id`;
  SELECT RAISE(ABORT, 'quota exceeded: historyBytes, limit ' || `max_history_bytes`) FROM `tenant_quota_limits`
  WHERE `tenant_id` = NEW.`tenant_id` AND `history_bytes` > `max_history_bytes`
    AND NEW.`type` IN ('user.created', 'user.updated', 'user.reactivated', 'user.adopted', 'group.created',
      'group.updated', 'group.members_added');
END;
--> statement-breakpoint

CREATE TRIGGER `events_history_delete` AFTER DELETE ON `events` BEGIN
  UPDATE `tenant_quotas` SET `feed_bytes` = `feed_bytes`
    - length(CAST(OLD.`data` AS BLOB)) - coalesce(length(CAST(OLD.`resource` AS BLOB)), 0) - 256
  WHERE `tenant_id` = OLD.`tenant_id`;
END;
--> statement-breakpoint

CREATE TRIGGER `audit_events_history_insert` AFTER INSERT ON `audit_events` BEGIN
  INSERT INTO `tenant_quotas` (`tenant_id`) VALUES (NEW.`tenant_id`) ON CONFLICT DO NOTHING;
  UPDATE `tenant_quotas` SET `log_bytes` = `log_bytes` + length(CAST(NEW.`actor` AS BLOB))
    + length(CAST(NEW.`action` AS BLOB)) + coalesce(length(CAST(NEW.`resource_id` AS BLOB)), 0)
    + coalesce(length(CAST(NEW.`detail` AS BLOB)), 0) + 256
  WHERE `tenant_id` = NEW.`tenant_id`;
END;
--> statement-breakpoint

CREATE TRIGGER `audit_events_history_delete` AFTER DELETE ON `audit_events` BEGIN
  UPDATE `tenant_quotas` SET `log_bytes` = `log_bytes` - length(CAST(OLD.`actor` AS BLOB))
    - length(CAST(OLD.`action` AS BLOB)) - coalesce(length(CAST(OLD.`resource_id` AS BLOB)), 0)
    - coalesce(length(CAST(OLD.`detail` AS BLOB)), 0) - 256
  WHERE `tenant_id` = OLD.`tenant_id`;
END;
--> statement-breakpoint

-- The failed-request log counts but never refuses: it is bounded per tenant already (rows give way, repeats
-- aggregate), and a refusal there would fail the answer to a request that has already failed.
CREATE TRIGGER `failed_requests_history_insert` AFTER INSERT ON `failed_requests` BEGIN
  INSERT INTO `tenant_quotas` (`tenant_id`) VALUES (NEW.`tenant_id`) ON CONFLICT DO NOTHING;
  UPDATE `tenant_quotas` SET `log_bytes` = `log_bytes` + length(CAST(NEW.`path` AS BLOB))
    + coalesce(length(CAST(NEW.`detail` AS BLOB)), 0) + coalesce(length(CAST(NEW.`fingerprint` AS BLOB)), 0) + 256
  WHERE `tenant_id` = NEW.`tenant_id`;
END;
--> statement-breakpoint

CREATE TRIGGER `failed_requests_history_update` AFTER UPDATE OF `path`, `detail`, `fingerprint` ON `failed_requests`
BEGIN
  UPDATE `tenant_quotas` SET `log_bytes` = `log_bytes`
    + length(CAST(NEW.`path` AS BLOB)) + coalesce(length(CAST(NEW.`detail` AS BLOB)), 0)
    + coalesce(length(CAST(NEW.`fingerprint` AS BLOB)), 0)
    - length(CAST(OLD.`path` AS BLOB)) - coalesce(length(CAST(OLD.`detail` AS BLOB)), 0)
    - coalesce(length(CAST(OLD.`fingerprint` AS BLOB)), 0)
  WHERE `tenant_id` = NEW.`tenant_id`;
END;
--> statement-breakpoint

CREATE TRIGGER `failed_requests_history_delete` AFTER DELETE ON `failed_requests` BEGIN
  UPDATE `tenant_quotas` SET `log_bytes` = `log_bytes` - length(CAST(OLD.`path` AS BLOB))
    - coalesce(length(CAST(OLD.`detail` AS BLOB)), 0) - coalesce(length(CAST(OLD.`fingerprint` AS BLOB)), 0) - 256
  WHERE `tenant_id` = OLD.`tenant_id`;
END;
