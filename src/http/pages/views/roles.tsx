import type { Role, RoleMappingItem, RoleMappingView } from "../../../services/roles";
import { ActionForm, type Chrome, FormActions, Page, type SessionFrame } from "./layout";
import { ApplyPreviewed, PreviewTable } from "./preview";

type FramedProps = { chrome: Chrome; frame: SessionFrame };

interface IntegrationRef {
  id: string;
  name: string;
}

/** Blank rows the form offers for new app role values. */
const NEW_APP_ROLES = 3;

/**
 * The form's fields, read back by `mappingOfForm`: `group:<id>` = role for a group, `app.<n>.value` and
 * `app.<n>.role` for an app role value, `defaultRole`. The preview page resends them as hidden fields.
 */
export const GROUP_FIELD = "group:";

function RoleSelect({
  name,
  roles,
  selected,
  none,
  label,
}: {
  name: string;
  roles: Role[];
  selected: string | null;
  none: string;
  /** The accessible name where no visible label names the select (a table's row). */
  label?: string;
}) {
  return (
    <select name={name} id={name} aria-label={label}>
      <option value="" selected={selected === null}>
        {none}
      </option>
      {roles.map((role) => (
        <option value={role.key} selected={role.key === selected}>
          {role.name}
        </option>
      ))}
    </select>
  );
}

/**
 * Which of the vendor's roles the integration's groups and app roles give: a role per group, app role values
 * (Entra's app role assignments) with theirs, and the role of everyone else. The customer's admin chooses among the
 * roles the vendor lets them; what the vendor set with others is listed, and kept.
 */
export function RolesPage({
  chrome,
  frame,
  integration,
  roles,
  groups,
  moreGroups,
  mapping,
}: FramedProps & {
  integration: IntegrationRef;
  roles: Role[];
  groups: { id: string; displayName: string }[];
  moreGroups: boolean;
  mapping: RoleMappingView;
}) {
  const { product } = chrome.brand;
  const choosable = frame.operator ? roles : roles.filter((role) => role.customerMappable);
  const chosen = new Set(choosable.map((role) => role.key));
  const nameOf = (key: string) => roles.find((role) => role.key === key)?.name ?? key;
  const groupRole = (id: string) =>
    mapping.items.find((item) => "groupId" in item && item.groupId === id && chosen.has(item.role))?.role ?? null;
  const appRoles = mapping.items.filter(
    (item): item is Extract<RoleMappingItem, { scimRole: string }> => "scimRole" in item && chosen.has(item.role),
  );
  const vendors = mapping.items.filter((item) => !chosen.has(item.role));
  const groupName = (id: string) => groups.find((group) => group.id === id)?.displayName ?? id;
  return (
    <Page title={`Roles for ${integration.name}`} chrome={chrome} frame={frame} tab="integrations">
      <h1>Roles for {integration.name}</h1>
      <p>
        Choose what your directory's groups and app roles give people in {product}. A user gets every role its groups
        and app roles give; someone with none gets the role for everyone else. Nothing changes until you apply it, after
        a preview of who gains or loses what.
      </p>
      {mapping.applying && (
        <div class="notice warn" role="status">
          <strong>The last change is still being applied.</strong>
          Users' roles follow within a few minutes.
        </div>
      )}
      {choosable.length === 0 ? (
        <p class="notice warn">{product} has no roles you can assign yet.</p>
      ) : (
        <ActionForm action={frame.paths.rolesPreview(integration.id)} csrf={frame.csrf}>
          <section class="card" aria-labelledby="groups-roles">
            <h2 id="groups-roles">Groups</h2>
            {groups.length === 0 ? (
              <p class="muted">Your directory has not sent any group yet.</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th scope="col">Group</th>
                    <th scope="col">Role</th>
                  </tr>
                </thead>
                <tbody>
                  {groups.map((group) => (
                    <tr>
                      <td>{group.displayName}</td>
                      <td>
                        <RoleSelect
                          name={`${GROUP_FIELD}${group.id}`}
                          roles={choosable}
                          selected={groupRole(group.id)}
                          none="No role"
                          label={`Role for ${group.displayName}`}
                        />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {moreGroups && (
              <p class="hint">
                The first {groups.length} groups by name are listed. Ask {product} to map others for you.
              </p>
            )}
          </section>
          <section class="card" aria-labelledby="app-roles">
            <h2 id="app-roles">App roles</h2>
            <p class="hint">
              The value of an app role your directory assigns (in Entra: the app role's Value, sent in the user's
              roles).
            </p>
            {[...appRoles, ...Array.from({ length: NEW_APP_ROLES }, () => null)].map((item, n) => (
              <div class="filters">
                <div class="field">
                  <label for={`app.${n}.value`}>App role value</label>
                  <input type="text" id={`app.${n}.value`} name={`app.${n}.value`} value={item?.scimRole ?? ""} />
                </div>
                <div class="field">
                  <label for={`app.${n}.role`}>Role</label>
                  <RoleSelect name={`app.${n}.role`} roles={choosable} selected={item?.role ?? null} none="No role" />
                </div>
              </div>
            ))}
          </section>
          <section class="card" aria-labelledby="everyone-else">
            <h2 id="everyone-else">Everyone else</h2>
            {mapping.defaultRole !== null && !chosen.has(mapping.defaultRole) ? (
              <p>
                {nameOf(mapping.defaultRole)}, set by {product}.
              </p>
            ) : (
              <div class="field">
                <label for="defaultRole">Role of a user no group or app role gives one</label>
                <RoleSelect name="defaultRole" roles={choosable} selected={mapping.defaultRole} none="No role" />
              </div>
            )}
          </section>
          {vendors.length > 0 && (
            <section class="card" aria-labelledby="vendor-set">
              <h2 id="vendor-set">Set by {product}</h2>
              <ul>
                {vendors.map((item) => (
                  <li>
                    {nameOf(item.role)}, through{" "}
                    {"groupId" in item ? `the group ${groupName(item.groupId)}` : `the app role ${item.scimRole}`}
                  </li>
                ))}
              </ul>
            </section>
          )}
          <input type="hidden" name="version" value={String(mapping.version)} />
          <FormActions submit="Preview" cancel={frame.paths.home} />
        </ActionForm>
      )}
    </Page>
  );
}

/** A preview in words, then Apply with exactly what was previewed (the fields again, and the version it was on). */
export function RolesPreviewPage({
  chrome,
  frame,
  integration,
  preview,
  roleNames,
  fields,
}: FramedProps & {
  integration: IntegrationRef;
  preview: {
    mappingVersion: number;
    byRole: { role: string; change: "granted" | "revoked"; users: number }[];
    changes: { userName: string; role: string; change: "granted" | "revoked" }[];
    granted: number;
    revoked: number;
  };
  /** The roles by key, for their names. */
  roleNames: Record<string, string>;
  fields: [string, string][];
}) {
  const name = (key: string) => roleNames[key] ?? key;
  const total = preview.granted + preview.revoked;
  return (
    <Page title={`Preview: roles for ${integration.name}`} chrome={chrome} frame={frame} tab="integrations" narrow>
      <h1>What applying it changes</h1>
      {total === 0 ? (
        <p>Nobody's roles change.</p>
      ) : (
        <ul>
          {preview.byRole.map((row) => (
            <li>
              {row.users.toLocaleString("en-US")} {row.users === 1 ? "user" : "users"}{" "}
              {row.change === "granted" ? "will get" : "will lose"} <strong>{name(row.role)}</strong>
            </li>
          ))}
        </ul>
      )}
      <PreviewTable
        column="Change"
        rows={preview.changes.map((row) => ({
          userName: row.userName,
          change: `${row.change === "granted" ? "Gets" : "Loses"} ${name(row.role)}`,
        }))}
      />
      {total > preview.changes.length && (
        <p class="hint">And {(total - preview.changes.length).toLocaleString("en-US")} more.</p>
      )}
      <ApplyPreviewed
        action={frame.paths.roles(integration.id)}
        csrf={frame.csrf}
        fields={fields}
        version={preview.mappingVersion}
      />
    </Page>
  );
}
