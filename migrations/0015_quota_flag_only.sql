-- A deactivation past the bytes quota is admitted for the flag alone (#27 point 5). The exemption used to admit up
-- to 30 bytes of any change made with it, so a tenant at its limit could grow a user a few bytes per
-- deactivate/reactivate cycle (20 cycles: 520 bytes). Now the write is exempt only when the documents, without
-- `active`, are what they were: it locks a user out and changes nothing else. The body is the one migration 0007
-- wrote, but for that condition.
DROP TRIGGER `users_quota_update`;
--> statement-breakpoint
CREATE TRIGGER `users_quota_update` AFTER UPDATE OF `data`, `folded` ON `users`
WHEN NEW.`document_bytes` <> OLD.`document_bytes`
BEGIN
  UPDATE `tenant_quotas` SET `stored_bytes` = `stored_bytes` + NEW.`document_bytes` - OLD.`document_bytes`
  WHERE `tenant_id` = NEW.`tenant_id`;
  SELECT RAISE(ABORT, 'quota exceeded: bytes, limit ' || `max_bytes`) FROM `tenant_quota_limits`
  WHERE `tenant_id` = NEW.`tenant_id` AND `stored_bytes` > `max_bytes` AND NEW.`document_bytes` > OLD.`document_bytes`
    AND NOT (OLD.`active` AND NOT NEW.`active`
      AND json_remove(NEW.`data`, '$.active') = json_remove(OLD.`data`, '$.active')
      AND json_remove(NEW.`folded`, '$.active') = json_remove(OLD.`folded`, '$.active'));
END;
