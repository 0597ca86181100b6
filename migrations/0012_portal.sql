CREATE TABLE `portal_links` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`session_id` text,
	`return_url` text
);
--> statement-breakpoint
CREATE INDEX `portal_links_tenant_idx` ON `portal_links` (`tenant_id`);--> statement-breakpoint
CREATE INDEX `portal_links_expires_idx` ON `portal_links` (`expires_at`);--> statement-breakpoint
CREATE TABLE `portal_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text,
	`role` text DEFAULT 'customer' NOT NULL,
	`key_digest` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`ended_at` integer,
	`return_url` text
);
--> statement-breakpoint
CREATE INDEX `portal_sessions_tenant_idx` ON `portal_sessions` (`tenant_id`);--> statement-breakpoint
CREATE INDEX `portal_sessions_expires_idx` ON `portal_sessions` (`expires_at`);--> statement-breakpoint
ALTER TABLE `users` ADD `adopted_at` integer;--> statement-breakpoint
CREATE INDEX `audit_events_resource_idx` ON `audit_events` (`tenant_id`,`resource_id`,`id`);--> statement-breakpoint
-- Hand-added backfill: users adopted before this column existed, from the audit log's adoption records (kept 365
-- days, so older adoptions stay uncounted): a POST's `user.adopted`, or a PUT's or PATCH's row marked adopted (Entra
-- usually finds a user by filter, then PATCHes it). One pass over the audit log, not a lookup per user.
UPDATE `users` SET `adopted_at` = `a`.`at`
FROM (SELECT `tenant_id`, `resource_id`, max(`at`) AS `at` FROM `audit_events`
  WHERE `action` = 'user.adopted'
    OR (`action` IN ('user.replaced', 'user.updated') AND json_extract(`detail`, '$.adopted') = 1)
  GROUP BY `tenant_id`, `resource_id`) AS `a`
WHERE `users`.`tenant_id` = `a`.`tenant_id` AND `users`.`id` = `a`.`resource_id` AND `users`.`managed_by` = 'azure-ad';
