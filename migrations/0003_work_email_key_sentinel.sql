-- work_email_key now holds '' (not NULL) for users without exactly one work email, so the work-email filter
-- shortcut can look up both keys on one index (see src/db/filter-sql.ts). Rows written before hold NULL.
UPDATE `users` SET `work_email_key` = '' WHERE `work_email_key` IS NULL;
--> statement-breakpoint
-- Users with several work emails held the first one; they now hold '' and are matched on all of them.
UPDATE `users` SET `work_email_key` = ''
WHERE (SELECT count(*) FROM json_each(`folded`, '$.emails') AS e WHERE json_extract(e.value, '$.type') = 'work') > 1;
