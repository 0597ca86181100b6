DROP INDEX `groups_tenant_external_id_idx`;--> statement-breakpoint
CREATE INDEX `groups_tenant_external_id_order_idx` ON `groups` (`tenant_id`,`external_id`,`created_at`,`id`);--> statement-breakpoint
DROP INDEX `users_tenant_external_id_idx`;--> statement-breakpoint
DROP INDEX `users_tenant_work_email_idx`;--> statement-breakpoint
DROP INDEX `users_tenant_display_name_idx`;--> statement-breakpoint
CREATE INDEX `users_tenant_external_id_order_idx` ON `users` (`tenant_id`,`external_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `users_tenant_work_email_order_idx` ON `users` (`tenant_id`,`work_email_key`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `users_tenant_display_name_order_idx` ON `users` (`tenant_id`,`display_name_key`,`created_at`,`id`);