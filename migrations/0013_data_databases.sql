CREATE TABLE `relay_outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`at` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`resource_type` text,
	`resource_id` text,
	`detail` text,
	`event_type` text,
	`event_data` text,
	`effect` text
);
--> statement-breakpoint
CREATE INDEX `relay_outbox_tenant_idx` ON `relay_outbox` (`tenant_id`);--> statement-breakpoint
CREATE TABLE `webhook_cursors` (
	`tenant_id` text PRIMARY KEY NOT NULL,
	`fanned_out_through` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE `audit_events` ADD `relay_id` text;--> statement-breakpoint
CREATE UNIQUE INDEX `audit_events_relay_idx` ON `audit_events` (`relay_id`);--> statement-breakpoint
ALTER TABLE `tenants` ADD `database` text DEFAULT 'DB' NOT NULL;--> statement-breakpoint
ALTER TABLE `tenants` ADD `deleted_at` integer;--> statement-breakpoint
CREATE INDEX `tenants_database_idx` ON `tenants` (`database`,`deleted_at`);--> statement-breakpoint
CREATE INDEX `tenants_deleted_idx` ON `tenants` (`deleted_at`);--> statement-breakpoint
-- Webhook cursors move to the control database (with the deliveries they govern); tenants created before this
-- migration have their feeds in this same database, so their cursors are copied as they are.
INSERT INTO `webhook_cursors` (`tenant_id`, `fanned_out_through`)
SELECT `tenant_id`, `fanned_out_through` FROM `event_feeds` WHERE `fanned_out_through` > 0;
--> statement-breakpoint
ALTER TABLE `event_feeds` DROP COLUMN `fanned_out_through`;
--> statement-breakpoint

-- The quota triggers created a tenant's counters only if the tenant existed; a data database has no tenants table
-- rows, so the counters are created unconditionally. A write racing the tenant's deletion may leave counters (and
-- rows) behind: the deletion purges the tenant's data again after every grant that could route a write there has
-- expired (services/tenant-deletion.ts).
DROP TRIGGER `users_quota_insert`;
--> statement-breakpoint
CREATE TRIGGER `users_quota_insert` AFTER INSERT ON `users` BEGIN
  INSERT INTO `tenant_quotas` (`tenant_id`) VALUES (NEW.`tenant_id`) ON CONFLICT DO NOTHING;
  UPDATE `tenant_quotas` SET `user_count` = `user_count` + 1,
    `stored_bytes` = `stored_bytes` + NEW.`document_bytes`
  WHERE `tenant_id` = NEW.`tenant_id`;
  SELECT RAISE(ABORT, 'quota exceeded: users, limit ' || `max_users`) FROM `tenant_quota_limits`
  WHERE `tenant_id` = NEW.`tenant_id` AND `user_count` > `max_users`;
  SELECT RAISE(ABORT, 'quota exceeded: bytes, limit ' || `max_bytes`) FROM `tenant_quota_limits`
  WHERE `tenant_id` = NEW.`tenant_id` AND `stored_bytes` > `max_bytes`;
END;
--> statement-breakpoint
DROP TRIGGER `groups_quota_insert`;
--> statement-breakpoint
CREATE TRIGGER `groups_quota_insert` AFTER INSERT ON `groups` BEGIN
  INSERT INTO `tenant_quotas` (`tenant_id`) VALUES (NEW.`tenant_id`) ON CONFLICT DO NOTHING;
  UPDATE `tenant_quotas` SET `group_count` = `group_count` + 1,
    `stored_bytes` = `stored_bytes` + NEW.`document_bytes`
  WHERE `tenant_id` = NEW.`tenant_id`;
  SELECT RAISE(ABORT, 'quota exceeded: groups, limit ' || `max_groups`) FROM `tenant_quota_limits`
  WHERE `tenant_id` = NEW.`tenant_id` AND `group_count` > `max_groups`;
  SELECT RAISE(ABORT, 'quota exceeded: bytes, limit ' || `max_bytes`) FROM `tenant_quota_limits`
  WHERE `tenant_id` = NEW.`tenant_id` AND `stored_bytes` > `max_bytes`;
END;