CREATE TABLE `custom_attributes` (
	`key` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`description` text,
	`priority` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `role_mappings` ADD `attributes` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `tenant_role_mappings` ADD `attributes` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `attributes` text;