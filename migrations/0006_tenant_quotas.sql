CREATE TABLE `quota_defaults` (
	`id` integer PRIMARY KEY NOT NULL,
	`max_users` integer,
	`max_groups` integer,
	`max_bytes` integer
);
--> statement-breakpoint
CREATE TABLE `tenant_quotas` (
	`tenant_id` text PRIMARY KEY NOT NULL,
	`user_count` integer DEFAULT 0 NOT NULL,
	`group_count` integer DEFAULT 0 NOT NULL,
	`stored_bytes` integer DEFAULT 0 NOT NULL,
	`max_users` integer,
	`max_groups` integer,
	`max_bytes` integer
);
--> statement-breakpoint
ALTER TABLE `groups` ADD `document_bytes` integer GENERATED ALWAYS AS (length(CAST(data AS BLOB)) + length(CAST(folded AS BLOB))) VIRTUAL;--> statement-breakpoint
ALTER TABLE `users` ADD `document_bytes` integer GENERATED ALWAYS AS (length(CAST(data AS BLOB)) + length(CAST(folded AS BLOB))) VIRTUAL;