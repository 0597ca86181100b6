CREATE TABLE `event_feeds` (
	`tenant_id` text PRIMARY KEY NOT NULL,
	`purged_through` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `events` (
	`tenant_id` text NOT NULL,
	`sequence` integer NOT NULL,
	`id` text NOT NULL,
	`type` text NOT NULL,
	`occurred_at` integer NOT NULL,
	`resource` text,
	`data` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `sequence`)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `events_id_idx` ON `events` (`id`);--> statement-breakpoint
CREATE INDEX `events_tenant_type_idx` ON `events` (`tenant_id`,`type`,`sequence`);--> statement-breakpoint
CREATE INDEX `events_occurred_idx` ON `events` (`occurred_at`);