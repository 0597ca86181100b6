DROP INDEX `users_tenant_created_idx`;--> statement-breakpoint
CREATE INDEX `users_tenant_created_scope_idx` ON `users` (`tenant_id`,`created_at`,`id`,`managed_by`,`user_name_key`);