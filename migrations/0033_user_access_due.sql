-- Each user's roles and custom attributes as its integration's mappings give them: the rendering of src/db/access.ts
-- (USER_ACCESS_DUE), which every write's access sync names instead of repeating the expressions (test/node/access-view.test.ts
-- holds this text to the code). SQLite will not rename a table a view reads: a later migration that rebuilds users,
-- group_members, roles or tenant_role_mappings drops this view first and creates it again after (the same test says so).
CREATE VIEW `user_access_due` AS
SELECT u.tenant_id, u.id, (SELECT CASE WHEN count(*) = 0 THEN NULL
    ELSE json_group_array(json_object('key', granted.role, 'sources', json(granted.sources))) END
  FROM (
    SELECT item.value ->> 'role' AS role, min(r.priority) AS priority,
      json_group_array(CASE WHEN item.value ->> 'groupId' IS NOT NULL
        THEN json_object('groupId', item.value ->> 'groupId') ELSE json_object('scimRole', item.value ->> 'scimRole') END)
        AS sources
    FROM "tenant_role_mappings" m, json_each(m.items) item JOIN "roles" r ON r.key = item.value ->> 'role'
    WHERE m.tenant_id = u.tenant_id AND m.integration_id = u.managed_by AND u.active = 1 AND (
  EXISTS (SELECT 1 FROM "group_members" gm WHERE gm.tenant_id = u.tenant_id AND gm.member_id = u.id
    AND gm.group_id = item.value ->> 'groupId')
  OR EXISTS (SELECT 1 FROM json_each(u.data, '$.roles') scim_role
    WHERE (CASE scim_role.type WHEN 'object' THEN scim_role.value ->> 'value' ELSE scim_role.value END)
      = item.value ->> 'scimRole'))
    GROUP BY item.value ->> 'role'
    UNION ALL
    SELECT m.default_role, r.priority, json_array(json_object('default', json('true')))
    FROM "tenant_role_mappings" m JOIN "roles" r ON r.key = m.default_role
    WHERE m.tenant_id = u.tenant_id AND m.integration_id = u.managed_by AND u.active = 1 AND NOT EXISTS (SELECT 1 FROM json_each(m.items) item
      JOIN "roles" known ON known.key = item.value ->> 'role' WHERE (
  EXISTS (SELECT 1 FROM "group_members" gm WHERE gm.tenant_id = u.tenant_id AND gm.member_id = u.id
    AND gm.group_id = item.value ->> 'groupId')
  OR EXISTS (SELECT 1 FROM json_each(u.data, '$.roles') scim_role
    WHERE (CASE scim_role.type WHEN 'object' THEN scim_role.value ->> 'value' ELSE scim_role.value END)
      = item.value ->> 'scimRole')))
    ORDER BY priority
  ) granted) AS access,
  (SELECT CASE WHEN count(*) = 0 THEN NULL ELSE json_object(
      'values', json(json_group_object(key, CASE WHEN CASE
    WHEN raw IS NULL OR json_type(raw) = 'null' THEN NULL
    WHEN type = 'string' THEN CASE WHEN json_type(raw) <> 'text' THEN 'not_a_string'
      WHEN length(raw ->> '$') > 1024 THEN 'too_long' END
    WHEN type = 'number' THEN CASE WHEN json_type(raw) NOT IN ('integer', 'real') THEN 'not_a_number' END
    ELSE CASE WHEN json_type(raw) NOT IN ('true', 'false')
      AND NOT (json_type(raw) = 'text' AND lower(raw ->> '$') IN ('true', 'false')) THEN 'not_a_boolean' END
  END IS NULL THEN json(
        CASE WHEN type = 'boolean' AND json_type(raw) = 'text' THEN lower(raw ->> '$') ELSE raw END) END)),
      'errors', json(json_group_array(json_object('key', key, 'path', path, 'reason', CASE
    WHEN raw IS NULL OR json_type(raw) = 'null' THEN NULL
    WHEN type = 'string' THEN CASE WHEN json_type(raw) <> 'text' THEN 'not_a_string'
      WHEN length(raw ->> '$') > 1024 THEN 'too_long' END
    WHEN type = 'number' THEN CASE WHEN json_type(raw) NOT IN ('integer', 'real') THEN 'not_a_number' END
    ELSE CASE WHEN json_type(raw) NOT IN ('true', 'false')
      AND NOT (json_type(raw) = 'text' AND lower(raw ->> '$') IN ('true', 'false')) THEN 'not_a_boolean' END
  END,
        'found', CASE json_type(raw) WHEN 'text' THEN 'string' WHEN 'integer' THEN 'number'
    WHEN 'real' THEN 'number' WHEN 'true' THEN 'boolean' WHEN 'false' THEN 'boolean' ELSE json_type(raw) END)) FILTER (WHERE CASE
    WHEN raw IS NULL OR json_type(raw) = 'null' THEN NULL
    WHEN type = 'string' THEN CASE WHEN json_type(raw) <> 'text' THEN 'not_a_string'
      WHEN length(raw ->> '$') > 1024 THEN 'too_long' END
    WHEN type = 'number' THEN CASE WHEN json_type(raw) NOT IN ('integer', 'real') THEN 'not_a_number' END
    ELSE CASE WHEN json_type(raw) NOT IN ('true', 'false')
      AND NOT (json_type(raw) = 'text' AND lower(raw ->> '$') IN ('true', 'false')) THEN 'not_a_boolean' END
  END IS NOT NULL))) END
    FROM (SELECT item.value ->> 'key' AS key, item.value ->> 'path' AS path, item.value ->> 'type' AS type,
        CASE
    WHEN (item.value ->> '$.from.at') IS NOT NULL THEN u.data -> (item.value ->> '$.from.at')
    WHEN (item.value ->> '$.from.custom.urn') IS NOT NULL THEN (
      SELECT u.data -> ('$."' || e.key || '"."' || a.key || '"')
      FROM json_each(u.data) e, json_each(e.value) a
      WHERE e.type = 'object' AND lower(e.key) = lower((item.value ->> '$.from.custom.urn'))
        AND lower(a.key) = lower((item.value ->> '$.from.custom.attr'))
      ORDER BY e.key, a.key LIMIT 1)
    ELSE (SELECT d.value -> (item.value ->> '$.from.sub')
      FROM json_each(u.data, (item.value ->> '$.from.each')) d
      WHERE d.type = 'object' AND ((item.value ->> '$.from.where.sub') IS NULL
        OR (u.folded -> ((item.value ->> '$.from.each') || '[' || d.key || ']')) -> (item.value ->> '$.from.where.sub') = (item.value ->> '$.from.where.equals'))
      ORDER BY coalesce(d.value -> '$.primary', 'false') = 'true' DESC, d.key LIMIT 1)
  END AS raw
      FROM "tenant_role_mappings" m, json_each(m.attributes) item
      WHERE m.tenant_id = u.tenant_id AND m.integration_id = u.managed_by LIMIT -1)) AS attributes
FROM "users" u;
