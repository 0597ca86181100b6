ALTER TABLE `quota_defaults` ADD `max_history_bytes` integer;--> statement-breakpoint
ALTER TABLE `tenant_quotas` ADD `feed_bytes` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `tenant_quotas` ADD `log_bytes` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `tenant_quotas` ADD `max_history_bytes` integer;--> statement-breakpoint
ALTER TABLE `tenant_quotas` ADD `signalled` text DEFAULT '{}' NOT NULL;