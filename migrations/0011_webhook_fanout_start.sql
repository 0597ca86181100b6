-- Webhooks fan a tenant's feed out from its cursor (event_feeds.fanned_out_through). Events written before webhooks
-- existed are not owed to anyone: every feed's cursor starts at its newest event, so the first fan-out does not walk
-- up to 30 days of history.
INSERT INTO `event_feeds` (`tenant_id`, `fanned_out_through`)
SELECT `tenant_id`, max(`sequence`) FROM `events` WHERE true GROUP BY `tenant_id`
ON CONFLICT (`tenant_id`) DO UPDATE SET `fanned_out_through` = max(`fanned_out_through`, excluded.`fanned_out_through`);
