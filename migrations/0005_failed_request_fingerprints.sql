DROP INDEX `failed_requests_slot_idx`;--> statement-breakpoint
CREATE INDEX `failed_requests_fingerprint_idx` ON `failed_requests` (`tenant_id`,`fingerprint`);--> statement-breakpoint
ALTER TABLE `failed_requests` DROP COLUMN `slot`;