CREATE TABLE `group_members` (
	`tenant_id` text NOT NULL,
	`group_id` text NOT NULL,
	`member_id` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `group_id`, `member_id`)
);
--> statement-breakpoint
CREATE INDEX `group_members_member_idx` ON `group_members` (`tenant_id`,`member_id`,`group_id`);--> statement-breakpoint
CREATE TABLE `groups` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`display_name` text NOT NULL,
	`display_name_key` text NOT NULL,
	`external_id` text,
	`data` text NOT NULL,
	`folded` text NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `groups_tenant_display_name_idx` ON `groups` (`tenant_id`,`display_name_key`);--> statement-breakpoint
CREATE INDEX `groups_tenant_external_id_idx` ON `groups` (`tenant_id`,`external_id`);--> statement-breakpoint
CREATE INDEX `groups_tenant_created_idx` ON `groups` (`tenant_id`,`created_at`,`id`);