CREATE TABLE `tenant_copies` (
	`tenant_id` text PRIMARY KEY NOT NULL,
	`source` text NOT NULL,
	`holder` text,
	`cursors` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `tenant_fences` (
	`tenant_id` text PRIMARY KEY NOT NULL,
	`moved_to` text NOT NULL,
	`fenced_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `tenant_moves` (
	`tenant_id` text PRIMARY KEY NOT NULL,
	`source` text NOT NULL,
	`target` text NOT NULL,
	`phase` text NOT NULL,
	`state` text NOT NULL,
	`start_sequence` integer,
	`caught_up_through` integer,
	`progress` text NOT NULL,
	`verification` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`window_failures` integer DEFAULT 0 NOT NULL,
	`error` text,
	`lease` text,
	`lease_until` integer,
	`started_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`fenced_at` integer,
	`switched_at` integer,
	`finished_at` integer
);
--> statement-breakpoint
CREATE INDEX `tenant_moves_phase_idx` ON `tenant_moves` (`state`,`phase`);
--> statement-breakpoint

-- The fence (src/db/fence.ts). Each trigger body is one statement and its condition is in WHEN: remote migrations
-- are known to mis-split multi-statement trigger bodies. Writes of a fenced tenant's rows are refused here, in the
-- database itself, whichever code path (a request routed by a stale token grant, a late relay) attempts them.
-- Deletes are not fenced: retention and the purge of a moved tenant's rows must go on, and every delete a request
-- makes writes its event in the same batch, which the events trigger refuses.
--> statement-breakpoint
CREATE TRIGGER `users_fence_insert` BEFORE INSERT ON `users`
WHEN EXISTS (SELECT 1 FROM `tenant_fences` WHERE `tenant_id` = NEW.`tenant_id`)
BEGIN SELECT RAISE(ABORT, 'tenant moving: fenced'); END;
--> statement-breakpoint
CREATE TRIGGER `users_fence_update` BEFORE UPDATE ON `users`
WHEN EXISTS (SELECT 1 FROM `tenant_fences` WHERE `tenant_id` = NEW.`tenant_id`)
BEGIN SELECT RAISE(ABORT, 'tenant moving: fenced'); END;
--> statement-breakpoint
CREATE TRIGGER `groups_fence_insert` BEFORE INSERT ON `groups`
WHEN EXISTS (SELECT 1 FROM `tenant_fences` WHERE `tenant_id` = NEW.`tenant_id`)
BEGIN SELECT RAISE(ABORT, 'tenant moving: fenced'); END;
--> statement-breakpoint
CREATE TRIGGER `groups_fence_update` BEFORE UPDATE ON `groups`
WHEN EXISTS (SELECT 1 FROM `tenant_fences` WHERE `tenant_id` = NEW.`tenant_id`)
BEGIN SELECT RAISE(ABORT, 'tenant moving: fenced'); END;
--> statement-breakpoint
CREATE TRIGGER `group_members_fence_insert` BEFORE INSERT ON `group_members`
WHEN EXISTS (SELECT 1 FROM `tenant_fences` WHERE `tenant_id` = NEW.`tenant_id`)
BEGIN SELECT RAISE(ABORT, 'tenant moving: fenced'); END;
--> statement-breakpoint
CREATE TRIGGER `group_members_fence_update` BEFORE UPDATE ON `group_members`
WHEN EXISTS (SELECT 1 FROM `tenant_fences` WHERE `tenant_id` = NEW.`tenant_id`)
BEGIN SELECT RAISE(ABORT, 'tenant moving: fenced'); END;
--> statement-breakpoint
CREATE TRIGGER `events_fence_insert` BEFORE INSERT ON `events`
WHEN EXISTS (SELECT 1 FROM `tenant_fences` WHERE `tenant_id` = NEW.`tenant_id`)
BEGIN SELECT RAISE(ABORT, 'tenant moving: fenced'); END;
--> statement-breakpoint
CREATE TRIGGER `events_fence_update` BEFORE UPDATE ON `events`
WHEN EXISTS (SELECT 1 FROM `tenant_fences` WHERE `tenant_id` = NEW.`tenant_id`)
BEGIN SELECT RAISE(ABORT, 'tenant moving: fenced'); END;
--> statement-breakpoint
CREATE TRIGGER `audit_events_fence_insert` BEFORE INSERT ON `audit_events`
WHEN EXISTS (SELECT 1 FROM `tenant_fences` WHERE `tenant_id` = NEW.`tenant_id`)
BEGIN SELECT RAISE(ABORT, 'tenant moving: fenced'); END;
--> statement-breakpoint
CREATE TRIGGER `audit_events_fence_update` BEFORE UPDATE ON `audit_events`
WHEN EXISTS (SELECT 1 FROM `tenant_fences` WHERE `tenant_id` = NEW.`tenant_id`)
BEGIN SELECT RAISE(ABORT, 'tenant moving: fenced'); END;
--> statement-breakpoint
CREATE TRIGGER `failed_requests_fence_insert` BEFORE INSERT ON `failed_requests`
WHEN EXISTS (SELECT 1 FROM `tenant_fences` WHERE `tenant_id` = NEW.`tenant_id`)
BEGIN SELECT RAISE(ABORT, 'tenant moving: fenced'); END;
--> statement-breakpoint
CREATE TRIGGER `failed_requests_fence_update` BEFORE UPDATE ON `failed_requests`
WHEN EXISTS (SELECT 1 FROM `tenant_fences` WHERE `tenant_id` = NEW.`tenant_id`)
BEGIN SELECT RAISE(ABORT, 'tenant moving: fenced'); END;
--> statement-breakpoint

-- Reads cannot raise in SQLite except through a trigger: every statement list a request sends to a tenant's data
-- database starts with an insert into this view, whose trigger refuses it while the tenant is fenced and otherwise
-- does nothing (an INSTEAD OF trigger whose WHEN is false writes nothing).
CREATE VIEW `tenant_fence_probe` AS SELECT NULL AS `tenant_id` WHERE 0;
--> statement-breakpoint
CREATE TRIGGER `tenant_fence_probe_check` INSTEAD OF INSERT ON `tenant_fence_probe`
WHEN EXISTS (SELECT 1 FROM `tenant_fences` WHERE `tenant_id` = NEW.`tenant_id`)
BEGIN SELECT RAISE(ABORT, 'tenant moving: fenced'); END;
