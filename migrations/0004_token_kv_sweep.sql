ALTER TABLE `access_tokens` ADD `kv_swept_at` integer;--> statement-breakpoint
CREATE INDEX `access_tokens_unswept_idx` ON `access_tokens` (`status`,`kv_swept_at`);