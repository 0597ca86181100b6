-- Quotas (src/db/schema.ts, tenant_quotas): usage counters kept by triggers, in the statement that writes the row,
-- and limits enforced by the same triggers. A trigger that finds a count grown past its limit raises, which aborts
-- the statement and with it the whole D1 batch (the batch is the transaction), so a refused write leaves nothing
-- behind. The message names the quota and its limit; src/db/quotas.ts reads it.
--
-- Only growth is checked, row by row: a tenant above a lowered limit can still delete, shrink or rewrite a document
-- in place and deactivate a user, but a row added (a member too) or a document grown is refused, even when the same
-- request removes more than it adds.
--
-- Stored bytes: each user's and group's `document_bytes` (its document and case-folded copy, in UTF-8), plus the
-- two ids of each membership. A user or group insert creates the tenant's row when it has none, if the tenant
-- exists (a write racing the tenant's deletion leaves no counters behind). `ON CONFLICT DO NOTHING`, not
-- `INSERT OR IGNORE`: inside a trigger the latter would take the conflict policy of the statement that fired it.

-- The deployment's defaults on a fresh install (docs/limits.md is generated from this statement).
INSERT INTO `quota_defaults` (`id`, `max_users`, `max_groups`, `max_bytes`) VALUES (1, 200000, 50000, 1073741824)
ON CONFLICT DO NOTHING;
--> statement-breakpoint

-- Usage of the data already stored (an upsert: limits set through the admin API since 0006 stay).
INSERT INTO `tenant_quotas` (`tenant_id`, `user_count`, `group_count`, `stored_bytes`)
SELECT `tenant_id`, sum(`users`), sum(`groups`), sum(`bytes`) FROM (
  SELECT `tenant_id`, count(*) AS `users`, 0 AS `groups`,
    sum(`document_bytes`) AS `bytes`
  FROM `users` GROUP BY `tenant_id`
  UNION ALL
  SELECT `tenant_id`, 0, count(*), sum(`document_bytes`)
  FROM `groups` GROUP BY `tenant_id`
  UNION ALL
  SELECT `tenant_id`, 0, 0, sum(length(CAST(`group_id` AS BLOB)) + length(CAST(`member_id` AS BLOB)))
  FROM `group_members` GROUP BY `tenant_id`
) WHERE true GROUP BY `tenant_id`
ON CONFLICT (`tenant_id`) DO UPDATE SET `user_count` = excluded.`user_count`, `group_count` = excluded.`group_count`,
  `stored_bytes` = excluded.`stored_bytes`;
--> statement-breakpoint

-- Each tenant's usage and the limits in force: its own, else the deployment's; null is no limit.
CREATE VIEW `tenant_quota_limits` AS
SELECT q.`tenant_id`, q.`user_count`, q.`group_count`, q.`stored_bytes`,
  coalesce(q.`max_users`, d.`max_users`) AS `max_users`,
  coalesce(q.`max_groups`, d.`max_groups`) AS `max_groups`,
  coalesce(q.`max_bytes`, d.`max_bytes`) AS `max_bytes`
FROM `tenant_quotas` q LEFT JOIN `quota_defaults` d ON d.`id` = 1;
--> statement-breakpoint

CREATE TRIGGER `users_quota_insert` AFTER INSERT ON `users` BEGIN
  INSERT INTO `tenant_quotas` (`tenant_id`) SELECT NEW.`tenant_id`
  WHERE EXISTS (SELECT 1 FROM `tenants` WHERE `id` = NEW.`tenant_id`) ON CONFLICT DO NOTHING;
  UPDATE `tenant_quotas` SET `user_count` = `user_count` + 1,
    `stored_bytes` = `stored_bytes` + NEW.`document_bytes`
  WHERE `tenant_id` = NEW.`tenant_id`;
  SELECT RAISE(ABORT, 'quota exceeded: users, limit ' || `max_users`) FROM `tenant_quota_limits`
  WHERE `tenant_id` = NEW.`tenant_id` AND `user_count` > `max_users`;
  SELECT RAISE(ABORT, 'quota exceeded: bytes, limit ' || `max_bytes`) FROM `tenant_quota_limits`
  WHERE `tenant_id` = NEW.`tenant_id` AND `stored_bytes` > `max_bytes`;
END;
--> statement-breakpoint

-- A deactivation is not refused for the bytes it adds itself: at most `,"active":false` in the document and its
-- folded copy (30 bytes), so a tenant at its limit can still lock a user out, but cannot grow through it.
CREATE TRIGGER `users_quota_update` AFTER UPDATE OF `data`, `folded` ON `users`
WHEN NEW.`document_bytes` <> OLD.`document_bytes`
BEGIN
  UPDATE `tenant_quotas` SET `stored_bytes` = `stored_bytes` + NEW.`document_bytes` - OLD.`document_bytes`
  WHERE `tenant_id` = NEW.`tenant_id`;
  SELECT RAISE(ABORT, 'quota exceeded: bytes, limit ' || `max_bytes`) FROM `tenant_quota_limits`
  WHERE `tenant_id` = NEW.`tenant_id` AND `stored_bytes` > `max_bytes` AND NEW.`document_bytes` > OLD.`document_bytes`
    AND NOT (OLD.`active` AND NOT NEW.`active` AND NEW.`document_bytes` - OLD.`document_bytes` <= 30);
END;
--> statement-breakpoint

CREATE TRIGGER `users_quota_delete` AFTER DELETE ON `users` BEGIN
  UPDATE `tenant_quotas` SET `user_count` = `user_count` - 1,
    `stored_bytes` = `stored_bytes` - OLD.`document_bytes`
  WHERE `tenant_id` = OLD.`tenant_id`;
END;
--> statement-breakpoint

CREATE TRIGGER `groups_quota_insert` AFTER INSERT ON `groups` BEGIN
  INSERT INTO `tenant_quotas` (`tenant_id`) SELECT NEW.`tenant_id`
  WHERE EXISTS (SELECT 1 FROM `tenants` WHERE `id` = NEW.`tenant_id`) ON CONFLICT DO NOTHING;
  UPDATE `tenant_quotas` SET `group_count` = `group_count` + 1,
    `stored_bytes` = `stored_bytes` + NEW.`document_bytes`
  WHERE `tenant_id` = NEW.`tenant_id`;
  SELECT RAISE(ABORT, 'quota exceeded: groups, limit ' || `max_groups`) FROM `tenant_quota_limits`
  WHERE `tenant_id` = NEW.`tenant_id` AND `group_count` > `max_groups`;
  SELECT RAISE(ABORT, 'quota exceeded: bytes, limit ' || `max_bytes`) FROM `tenant_quota_limits`
  WHERE `tenant_id` = NEW.`tenant_id` AND `stored_bytes` > `max_bytes`;
END;
--> statement-breakpoint

CREATE TRIGGER `groups_quota_update` AFTER UPDATE OF `data`, `folded` ON `groups`
WHEN NEW.`document_bytes` <> OLD.`document_bytes`
BEGIN
  UPDATE `tenant_quotas` SET `stored_bytes` = `stored_bytes` + NEW.`document_bytes` - OLD.`document_bytes`
  WHERE `tenant_id` = NEW.`tenant_id`;
  SELECT RAISE(ABORT, 'quota exceeded: bytes, limit ' || `max_bytes`) FROM `tenant_quota_limits`
  WHERE `tenant_id` = NEW.`tenant_id` AND `stored_bytes` > `max_bytes` AND NEW.`document_bytes` > OLD.`document_bytes`;
END;
--> statement-breakpoint

CREATE TRIGGER `groups_quota_delete` AFTER DELETE ON `groups` BEGIN
  UPDATE `tenant_quotas` SET `group_count` = `group_count` - 1,
    `stored_bytes` = `stored_bytes` - OLD.`document_bytes`
  WHERE `tenant_id` = OLD.`tenant_id`;
END;
--> statement-breakpoint

-- A membership joins a user and a group of the tenant, whose inserts made the tenant's row already.
CREATE TRIGGER `group_members_quota_insert` AFTER INSERT ON `group_members` BEGIN
  UPDATE `tenant_quotas` SET `stored_bytes` = `stored_bytes`
    + length(CAST(NEW.`group_id` AS BLOB)) + length(CAST(NEW.`member_id` AS BLOB))
  WHERE `tenant_id` = NEW.`tenant_id`;
  SELECT RAISE(ABORT, 'quota exceeded: bytes, limit ' || `max_bytes`) FROM `tenant_quota_limits`
  WHERE `tenant_id` = NEW.`tenant_id` AND `stored_bytes` > `max_bytes`;
END;
--> statement-breakpoint

CREATE TRIGGER `group_members_quota_delete` AFTER DELETE ON `group_members` BEGIN
  UPDATE `tenant_quotas` SET `stored_bytes` = `stored_bytes`
    - length(CAST(OLD.`group_id` AS BLOB)) - length(CAST(OLD.`member_id` AS BLOB))
  WHERE `tenant_id` = OLD.`tenant_id`;
END;
