/**
 * A user's attributes as the customer's admin knows them from their directory ("Department", "Manager"), not as
 * SCIM spells them (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`): one row per value,
 * an extension's attributes named by their own name. The document as stored stays on the page, folded.
 */

/** Words for the attributes Entra, Okta and the others send; any other is named by its path's last part. */
const LABELS: Record<string, string> = {
  userName: "Username (UPN)",
  externalId: "External id",
  displayName: "Display name",
  nickName: "Nickname",
  "name.givenName": "First name",
  "name.familyName": "Last name",
  "name.formatted": "Full name",
  "name.middleName": "Middle name",
  "name.honorificPrefix": "Title before the name",
  "name.honorificSuffix": "Title after the name",
  title: "Job title",
  userType: "User type",
  preferredLanguage: "Preferred language",
  locale: "Locale",
  timezone: "Time zone",
  active: "Active",
  emails: "Email",
  phoneNumbers: "Phone",
  addresses: "Address",
  employeeNumber: "Employee number",
  costCenter: "Cost centre",
  organization: "Organisation",
  division: "Division",
  department: "Department",
  "manager.value": "Manager (id)",
  "manager.displayName": "Manager",
};

/** What identifies the resource or is the service's own, shown elsewhere on the page or not at all. */
const SKIPPED = new Set(["schemas", "id", "meta", "groups", "password"]);
const ADDRESS_PARTS = ["streetAddress", "locality", "region", "postalCode", "country"];

const label = (path: string) => LABELS[path] ?? path.slice(path.lastIndexOf(".") + 1);

/** A multi-valued attribute's item in one line: its value (an address's parts), its type beside the label. */
function item(name: string, value: Record<string, unknown>): [string, string] | null {
  const text =
    name === "addresses"
      ? typeof value.formatted === "string"
        ? value.formatted
        : ADDRESS_PARTS.map((part) => value[part])
            .filter((part) => typeof part === "string" && part !== "")
            .join(", ")
      : value.value;
  if (typeof text !== "string" && typeof text !== "number") return null;
  const type = typeof value.type === "string" ? ` (${value.type})` : "";
  return [`${label(name)}${type}`, String(text)];
}

/** The rows, in the document's order: an extension's attributes after the core ones, as SCIM keeps them. */
export function readableAttributes(document: Record<string, unknown>, prefix = ""): [string, string][] {
  const rows: [string, string][] = [];
  for (const [name, value] of Object.entries(document)) {
    if (prefix === "" && SKIPPED.has(name)) continue;
    if (value === null || value === "") continue;
    if (name.startsWith("urn:") && typeof value === "object" && !Array.isArray(value)) {
      rows.push(...readableAttributes(value as Record<string, unknown>));
      continue;
    }
    const path = `${prefix}${name}`;
    if (Array.isArray(value)) {
      for (const element of value) {
        const row: [string, string] | null =
          typeof element === "object" && element !== null
            ? item(path, element as Record<string, unknown>)
            : [label(path), String(element)];
        if (row) rows.push(row);
      }
    } else if (typeof value === "object") {
      rows.push(...readableAttributes(value as Record<string, unknown>, `${path}.`));
    } else {
      rows.push([label(path), typeof value === "boolean" ? (value ? "Yes" : "No") : String(value)]);
    }
  }
  return rows;
}

export function UserAttributes({ data }: { data: string }) {
  const document = JSON.parse(data) as Record<string, unknown>;
  return (
    <section class="card" aria-labelledby="attributes">
      <h2 id="attributes">Attributes from the directory</h2>
      <dl class="facts">
        {readableAttributes(document).map(([name, value]) => (
          <>
            <dt>{name}</dt>
            <dd>{value}</dd>
          </>
        ))}
      </dl>
      <details>
        <summary>The SCIM document as stored</summary>
        <pre class="document">{JSON.stringify(document, null, 2)}</pre>
      </details>
    </section>
  );
}
