DROP INDEX `access_tokens_tenant_idx`;--> statement-breakpoint
CREATE INDEX `access_tokens_tenant_idx` ON `access_tokens` (`tenant_id`,`status`,`expires_at`);