CREATE TABLE `webhook_backlogs` (
	`tenant_id` text NOT NULL,
	`endpoint_id` text NOT NULL,
	`owed` integer DEFAULT 0 NOT NULL,
	`coalesced_after` integer,
	`coalesced_through` integer,
	`coalesced` integer DEFAULT 0 NOT NULL,
	`coalesced_since` integer,
	PRIMARY KEY(`tenant_id`, `endpoint_id`)
);
--> statement-breakpoint
CREATE INDEX `webhook_backlogs_endpoint_idx` ON `webhook_backlogs` (`endpoint_id`,`tenant_id`);--> statement-breakpoint
ALTER TABLE `webhook_deliveries` ADD `skipped_through` integer;