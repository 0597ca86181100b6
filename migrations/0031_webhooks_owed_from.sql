ALTER TABLE `webhook_endpoints` ADD `owed_from` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `webhook_endpoints` ADD `owed_from_by_tenant` text;