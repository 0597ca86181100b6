ALTER TABLE `failed_requests` ADD `slot` integer;--> statement-breakpoint
ALTER TABLE `failed_requests` ADD `fingerprint` text;--> statement-breakpoint
ALTER TABLE `failed_requests` ADD `count` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE `failed_requests` ADD `first_at` integer;--> statement-breakpoint
CREATE INDEX `failed_requests_slot_idx` ON `failed_requests` (`tenant_id`,`slot`);