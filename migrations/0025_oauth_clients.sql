CREATE TABLE `integration_secrets` (
	`id` text PRIMARY KEY NOT NULL,
	`tenant_id` text NOT NULL,
	`integration_id` text NOT NULL,
	`secret_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`expiry_warned_at` integer
);
--> statement-breakpoint
CREATE INDEX `integration_secrets_integration_idx` ON `integration_secrets` (`tenant_id`,`integration_id`,`expires_at`);--> statement-breakpoint
CREATE INDEX `integration_secrets_expiry_idx` ON `integration_secrets` (`expires_at`);--> statement-breakpoint
ALTER TABLE `integrations` ADD `client_id` text;--> statement-breakpoint
CREATE UNIQUE INDEX `integrations_client_id_idx` ON `integrations` (`client_id`);