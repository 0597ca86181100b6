-- What each endpoint owes each tenant (#27): the fan-out records a delivery only while the endpoint owes the tenant
-- fewer than the cap (src/services/webhook-delivery.ts), so the count must be exact and must cost no scan. These
-- triggers keep `webhook_backlogs.owed` equal to the tenant's pending and retrying deliveries to the endpoint, in
-- the statement that changes one. They never raise: a delivery is the vendor's, and nothing here may refuse the
-- write of a delivery's outcome (SCIM writes never reach these tables; fan-out runs from the queue).

-- Deliveries already owed when this runs (the table is new: no row to merge with).
INSERT INTO `webhook_backlogs` (`tenant_id`, `endpoint_id`, `owed`)
SELECT `tenant_id`, `endpoint_id`, count(*) FROM `webhook_deliveries` WHERE `state` IN ('pending', 'retrying')
GROUP BY `tenant_id`, `endpoint_id`;
--> statement-breakpoint

CREATE TRIGGER `webhook_deliveries_owed_insert` AFTER INSERT ON `webhook_deliveries`
WHEN NEW.`state` IN ('pending', 'retrying')
BEGIN
  INSERT INTO `webhook_backlogs` (`tenant_id`, `endpoint_id`) VALUES (NEW.`tenant_id`, NEW.`endpoint_id`)
  ON CONFLICT DO NOTHING;
  UPDATE `webhook_backlogs` SET `owed` = `owed` + 1
  WHERE `tenant_id` = NEW.`tenant_id` AND `endpoint_id` = NEW.`endpoint_id`;
END;
--> statement-breakpoint

-- Only a change into or out of pending/retrying counts (a retry's pending → retrying does not). A row is made only
-- when one is owed: a delivery ending after its tenant's backlog was purged with the tenant has nothing to free.
CREATE TRIGGER `webhook_deliveries_owed_update` AFTER UPDATE OF `state` ON `webhook_deliveries`
WHEN (OLD.`state` IN ('pending', 'retrying')) <> (NEW.`state` IN ('pending', 'retrying'))
BEGIN
  INSERT INTO `webhook_backlogs` (`tenant_id`, `endpoint_id`)
  SELECT NEW.`tenant_id`, NEW.`endpoint_id` WHERE NEW.`state` IN ('pending', 'retrying')
  ON CONFLICT DO NOTHING;
  UPDATE `webhook_backlogs`
  SET `owed` = `owed` + CASE WHEN NEW.`state` IN ('pending', 'retrying') THEN 1 ELSE -1 END
  WHERE `tenant_id` = NEW.`tenant_id` AND `endpoint_id` = NEW.`endpoint_id`;
END;
--> statement-breakpoint

-- Retention purges by age, whatever the state: an old delivery still owed stops being owed.
CREATE TRIGGER `webhook_deliveries_owed_delete` AFTER DELETE ON `webhook_deliveries`
WHEN OLD.`state` IN ('pending', 'retrying')
BEGIN
  UPDATE `webhook_backlogs` SET `owed` = `owed` - 1
  WHERE `tenant_id` = OLD.`tenant_id` AND `endpoint_id` = OLD.`endpoint_id`;
END;
