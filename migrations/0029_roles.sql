CREATE TABLE `access_marks` (
	`tenant_id` text NOT NULL,
	`user_id` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `user_id`)
);
--> statement-breakpoint
CREATE TABLE `role_mappings` (
	`tenant_id` text NOT NULL,
	`integration_id` text NOT NULL,
	`version` integer NOT NULL,
	`default_role` text,
	`items` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `integration_id`)
);
--> statement-breakpoint
CREATE TABLE `roles` (
	`key` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`customer_mappable` integer DEFAULT true NOT NULL,
	`priority` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `tenant_role_mappings` (
	`tenant_id` text NOT NULL,
	`integration_id` text NOT NULL,
	`version` integer NOT NULL,
	`default_role` text,
	`items` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `integration_id`)
);
--> statement-breakpoint
ALTER TABLE `users` ADD `access` text;--> statement-breakpoint
-- Written by hand: the fence (migrations/0014) on the relayed role mappings, as on every fenced table.
CREATE TRIGGER `tenant_role_mappings_fence_insert` BEFORE INSERT ON `tenant_role_mappings`
WHEN EXISTS (SELECT 1 FROM `tenant_fences` WHERE `tenant_id` = NEW.`tenant_id`)
BEGIN SELECT RAISE(ABORT, 'tenant moving: fenced'); END;
--> statement-breakpoint
CREATE TRIGGER `tenant_role_mappings_fence_update` BEFORE UPDATE ON `tenant_role_mappings`
WHEN EXISTS (SELECT 1 FROM `tenant_fences` WHERE `tenant_id` = NEW.`tenant_id`)
BEGIN SELECT RAISE(ABORT, 'tenant moving: fenced'); END;
