-- Quotas (src/db/schema.ts, tenant_quotas): usage counters kept by triggers, in the statement that writes the row,
-- and limits enforced by the same triggers. A trigger that finds a count grown past its limit raises, which aborts
-- the statement and with it the whole D1 batch (the batch is the transaction), so a refused write leaves nothing
-- behind. Only growth is checked: a tenant above a lowered limit can still shrink, update in place, deactivate and
-- delete. The messages are read by src/db/quotas.ts.
--
-- Stored bytes: each user's and group's `document_bytes` (its document and case-folded copy, in UTF-8), plus the
-- two ids of each membership. An insert trigger creates the tenant's row when it has none (its first user or
-- group).

-- The deployment's defaults on a fresh install (docs/limits.md is generated from this statement).
INSERT INTO `quota_defaults` (`id`, `max_users`, `max_groups`, `max_bytes`) VALUES (1, 200000, 50000, 1073741824);
--> statement-breakpoint

-- Usage of the data already stored.
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
) GROUP BY `tenant_id`;
--> statement-breakpoint

-- Which of its limits each tenant is over; a tenant's own limit wins over the deployment's, null is no limit.
CREATE VIEW `tenant_quota_excess` AS
SELECT q.`tenant_id`,
  q.`user_count` > coalesce(q.`max_users`, d.`max_users`) AS `users`,
  q.`group_count` > coalesce(q.`max_groups`, d.`max_groups`) AS `groups`,
  q.`stored_bytes` > coalesce(q.`max_bytes`, d.`max_bytes`) AS `bytes`
FROM `tenant_quotas` q LEFT JOIN `quota_defaults` d ON d.`id` = 1;
--> statement-breakpoint

CREATE TRIGGER `users_quota_insert` AFTER INSERT ON `users` BEGIN
  INSERT OR IGNORE INTO `tenant_quotas` (`tenant_id`) VALUES (NEW.`tenant_id`);
  UPDATE `tenant_quotas` SET `user_count` = `user_count` + 1,
    `stored_bytes` = `stored_bytes` + NEW.`document_bytes`
  WHERE `tenant_id` = NEW.`tenant_id`;
  SELECT RAISE(ABORT, 'quota exceeded: users') FROM `tenant_quota_excess`
  WHERE `tenant_id` = NEW.`tenant_id` AND `users`;
  SELECT RAISE(ABORT, 'quota exceeded: bytes') FROM `tenant_quota_excess`
  WHERE `tenant_id` = NEW.`tenant_id` AND `bytes`;
END;
--> statement-breakpoint

-- A deactivation is never refused, though it grows the document ("active": false is a byte longer than true): a
-- tenant at its limit must still be able to lock a user out.
CREATE TRIGGER `users_quota_update` AFTER UPDATE OF `data`, `folded` ON `users`
WHEN NEW.`document_bytes` <> OLD.`document_bytes`
BEGIN
  UPDATE `tenant_quotas` SET `stored_bytes` = `stored_bytes` + NEW.`document_bytes` - OLD.`document_bytes`
  WHERE `tenant_id` = NEW.`tenant_id`;
  SELECT RAISE(ABORT, 'quota exceeded: bytes') FROM `tenant_quota_excess`
  WHERE `tenant_id` = NEW.`tenant_id` AND `bytes` AND NEW.`document_bytes` > OLD.`document_bytes`
    AND NOT (OLD.`active` AND NOT NEW.`active`);
END;
--> statement-breakpoint

CREATE TRIGGER `users_quota_delete` AFTER DELETE ON `users` BEGIN
  UPDATE `tenant_quotas` SET `user_count` = `user_count` - 1,
    `stored_bytes` = `stored_bytes` - OLD.`document_bytes`
  WHERE `tenant_id` = OLD.`tenant_id`;
END;
--> statement-breakpoint

CREATE TRIGGER `groups_quota_insert` AFTER INSERT ON `groups` BEGIN
  INSERT OR IGNORE INTO `tenant_quotas` (`tenant_id`) VALUES (NEW.`tenant_id`);
  UPDATE `tenant_quotas` SET `group_count` = `group_count` + 1,
    `stored_bytes` = `stored_bytes` + NEW.`document_bytes`
  WHERE `tenant_id` = NEW.`tenant_id`;
  SELECT RAISE(ABORT, 'quota exceeded: groups') FROM `tenant_quota_excess`
  WHERE `tenant_id` = NEW.`tenant_id` AND `groups`;
  SELECT RAISE(ABORT, 'quota exceeded: bytes') FROM `tenant_quota_excess`
  WHERE `tenant_id` = NEW.`tenant_id` AND `bytes`;
END;
--> statement-breakpoint

CREATE TRIGGER `groups_quota_update` AFTER UPDATE OF `data`, `folded` ON `groups`
WHEN NEW.`document_bytes` <> OLD.`document_bytes`
BEGIN
  UPDATE `tenant_quotas` SET `stored_bytes` = `stored_bytes` + NEW.`document_bytes` - OLD.`document_bytes`
  WHERE `tenant_id` = NEW.`tenant_id`;
  SELECT RAISE(ABORT, 'quota exceeded: bytes') FROM `tenant_quota_excess`
  WHERE `tenant_id` = NEW.`tenant_id` AND `bytes` AND NEW.`document_bytes` > OLD.`document_bytes`;
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
  SELECT RAISE(ABORT, 'quota exceeded: bytes') FROM `tenant_quota_excess`
  WHERE `tenant_id` = NEW.`tenant_id` AND `bytes`;
END;
--> statement-breakpoint

CREATE TRIGGER `group_members_quota_delete` AFTER DELETE ON `group_members` BEGIN
  UPDATE `tenant_quotas` SET `stored_bytes` = `stored_bytes`
    - length(CAST(OLD.`group_id` AS BLOB)) - length(CAST(OLD.`member_id` AS BLOB))
  WHERE `tenant_id` = OLD.`tenant_id`;
END;
