import {
  type AttributeMappingView,
  type CustomAttribute,
  MAX_ATTRIBUTE_VALUE_LENGTH,
  type previewAttributeMapping,
} from "../../../services/attributes";
import type { AttributeError } from "../../../services/roles";
import { ActionForm, type Chrome, FormActions, Page, type SessionFrame } from "./layout";
import { ApplyPreviewed, PreviewTable } from "./preview";

type FramedProps = { chrome: Chrome; frame: SessionFrame };

interface IntegrationRef {
  id: string;
  name: string;
}

/** The form's fields, read back by the route: `attr:<key>` = the SCIM path that fills the attribute. */
export const ATTRIBUTE_FIELD = "attr:";

const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/**
 * Paths a directory's admin picks from (a datalist: any other path may be typed): what Entra's default attribute
 * mappings send (../shared/docs/entra-scim.md), the same names Okta and the others use.
 */
const SUGGESTED_PATHS = [
  "userName",
  "displayName",
  "externalId",
  "title",
  "preferredLanguage",
  "name.givenName",
  "name.familyName",
  "name.formatted",
  'emails[type eq "work"].value',
  'phoneNumbers[type eq "mobile"].value',
  'phoneNumbers[type eq "work"].value',
  'addresses[type eq "work"].locality',
  'addresses[type eq "work"].country',
  `${ENTERPRISE}:department`,
  `${ENTERPRISE}:costCenter`,
  `${ENTERPRISE}:employeeNumber`,
  `${ENTERPRISE}:division`,
  `${ENTERPRISE}:organization`,
  `${ENTERPRISE}:manager.value`,
];

/**
 * Which of the directory's attributes fill the vendor's fields: one path per field (blank: not filled), typed or
 * picked from the usual ones. Nothing changes until applied, after a preview of whose values change.
 */
export function FieldsPage({
  chrome,
  frame,
  integration,
  attributes,
  mapping,
}: FramedProps & { integration: IntegrationRef; attributes: CustomAttribute[]; mapping: AttributeMappingView }) {
  const { product } = chrome.brand;
  const pathOf = (key: string) => mapping.items.find((item) => item.key === key)?.path ?? "";
  return (
    <Page title={`Fields for ${integration.name}`} chrome={chrome} frame={frame} tab="integrations">
      <h1>Fields for {integration.name}</h1>
      <p>
        Choose which of your directory's attributes fill {product}'s fields for the people it provisions. Type an
        attribute as your directory sends it over SCIM, or pick a usual one; leave a field blank to leave it empty.
        Nothing changes until you apply it, after a preview.
      </p>
      {mapping.applying && (
        <div class="notice warn" role="status">
          <strong>The last change is still being applied.</strong>
          Users' fields follow within a few minutes.
        </div>
      )}
      {attributes.length === 0 ? (
        <p class="notice warn">{product} has no fields to fill yet.</p>
      ) : (
        <ActionForm action={frame.paths.fieldsPreview(integration.id)} csrf={frame.csrf}>
          <section class="card" aria-labelledby="fields">
            <h2 id="fields">{product}'s fields</h2>
            <datalist id="scim-paths">
              {SUGGESTED_PATHS.map((path) => (
                <option value={path} />
              ))}
            </datalist>
            {attributes.map((attribute) => (
              <div class="field">
                <label for={`${ATTRIBUTE_FIELD}${attribute.key}`}>
                  {attribute.key} <span class="muted">({TYPE_WORDS[attribute.type]})</span>
                </label>
                {attribute.description && <p class="hint">{attribute.description}</p>}
                <input
                  type="text"
                  id={`${ATTRIBUTE_FIELD}${attribute.key}`}
                  name={`${ATTRIBUTE_FIELD}${attribute.key}`}
                  value={pathOf(attribute.key)}
                  list="scim-paths"
                  autocomplete="off"
                  spellcheck={false}
                />
              </div>
            ))}
          </section>
          <input type="hidden" name="version" value={String(mapping.version)} />
          <FormActions submit="Preview" cancel={frame.paths.home} />
        </ActionForm>
      )}
    </Page>
  );
}

const TYPE_WORDS: Record<CustomAttribute["type"], string> = {
  string: "text",
  number: "a number",
  boolean: "yes or no",
};

/** Why a value did not fill a field, in words. */
export const MISFIT_WORDS: Record<AttributeError["reason"], string> = {
  not_a_string: "is not text",
  not_a_number: "is not a number",
  not_a_boolean: "is not true or false",
  too_long: `is longer than ${MAX_ATTRIBUTE_VALUE_LENGTH} characters`,
};

/** What a value that did not fit was, in words (`found` of an attribute error). */
export const FOUND_WORDS: Record<string, string> = {
  string: "text",
  number: "a number",
  boolean: "true or false",
  object: "a set of values",
  array: "a list",
};

const shown = (value: unknown) => (value === null || value === undefined ? "—" : String(value));

/** A preview in words, then Apply with exactly what was previewed (the fields again, and the version it was on). */
export function FieldsPreviewPage({
  chrome,
  frame,
  integration,
  preview,
  fields,
}: FramedProps & {
  integration: IntegrationRef;
  preview: Awaited<ReturnType<typeof previewAttributeMapping>>;
  fields: [string, string][];
}) {
  const users = (n: number) => `${n.toLocaleString("en-US")} ${n === 1 ? "user" : "users"}`;
  return (
    <Page title={`Preview: fields for ${integration.name}`} chrome={chrome} frame={frame} tab="integrations" narrow>
      <h1>What applying it changes</h1>
      <p>
        {preview.users === 0 ? "Nobody's fields change." : `${users(preview.users)} will have their fields changed.`}
      </p>
      {preview.errors.length > 0 && (
        <div class="notice warn">
          <p>Some values will be left empty:</p>
          <ul>
            {preview.errors.map((error) => (
              <li>
                <strong>{error.key}</strong> for {users(error.users)}: the directory's value{" "}
                {MISFIT_WORDS[error.reason as AttributeError["reason"]]}
              </li>
            ))}
          </ul>
        </div>
      )}
      <PreviewTable
        column="Fields"
        rows={preview.changes.map((row) => ({
          userName: row.userName,
          change: (
            <ul>
              {Object.entries(row.attributes ?? {})
                .filter(([key, value]) => row.previous?.[key] !== value)
                .map(([key, value]) => (
                  <li>
                    {key}: {shown(row.previous?.[key])} → {shown(value)}
                  </li>
                ))}
              {Object.keys(row.previous ?? {})
                .filter((key) => !(key in (row.attributes ?? {})))
                .map((key) => (
                  <li>{key}: no longer filled</li>
                ))}
            </ul>
          ),
        }))}
      />
      {preview.users > preview.changes.length && (
        <p class="hint">And {users(preview.users - preview.changes.length)} more.</p>
      )}
      <ApplyPreviewed
        action={frame.paths.fields(integration.id)}
        csrf={frame.csrf}
        fields={fields}
        version={preview.mappingVersion}
      />
    </Page>
  );
}
