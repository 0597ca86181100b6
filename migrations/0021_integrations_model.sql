-- Integrations as a model (#28): several per tenant, each with its provider, name and tokens. Nothing a tenant
-- stores is rewritten: `managed_by` already holds `azure-ad` for every directory user, which is now the legacy
-- integration's id; groups and tokens get it as their column's default. The groups' displayName becomes unique per
-- integration (an index over the tenant's groups, built once).
DROP INDEX `groups_tenant_display_name_idx`;--> statement-breakpoint
ALTER TABLE `groups` ADD `managed_by` text DEFAULT 'azure-ad' NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `groups_tenant_integration_display_name_idx` ON `groups` (`tenant_id`,`managed_by`,`display_name_key`);--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_integrations` (
	`tenant_id` text NOT NULL,
	`id` text NOT NULL,
	`provider` text NOT NULL,
	`name` text NOT NULL,
	`authentication` text DEFAULT 'bearer' NOT NULL,
	`paused_at` integer,
	`takes_over_from` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`tenant_id`, `id`)
);
--> statement-breakpoint
-- Edited by hand: drizzle-kit copies columns the old table does not have. Each tenant's one integration becomes
-- the legacy integration, `azure-ad`, an Entra one (what the seed set up); its users and tokens already name it.
INSERT INTO `__new_integrations`("tenant_id", "id", "provider", "name", "authentication", "paused_at", "takes_over_from", "created_at", "updated_at") SELECT "tenant_id", 'azure-ad', 'entra', 'Microsoft Entra ID', 'bearer', NULL, NULL, "created_at", "created_at" FROM `integrations`;--> statement-breakpoint
DROP TABLE `integrations`;--> statement-breakpoint
ALTER TABLE `__new_integrations` RENAME TO `integrations`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
ALTER TABLE `access_tokens` ADD `integration_id` text DEFAULT 'azure-ad' NOT NULL;--> statement-breakpoint
ALTER TABLE `tenants` ADD `allowed_providers` text;--> statement-breakpoint
ALTER TABLE `tenants` ADD `verified_domains` text;