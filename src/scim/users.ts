import { isPlainObject } from "./coerce";
import { badRequest } from "./errors";
import { fold, foldDocument } from "./fold";
import { assertWithinLimits, normalizeResource, type ResourceDocument } from "./resource-input";
import { USER_RESOURCE_TYPE } from "./schema/resource-types";
import { ENTERPRISE_USER_SCHEMA_ID, USER_SCHEMA_ID } from "./schema/user";
import { weakEtag } from "./version";

/** What storage needs to write a user: the document and the folded keys its indexes are built on. */
export interface PreparedUser {
  doc: ResourceDocument;
  folded: ResourceDocument;
  userName: string;
  userNameKey: string;
  externalId: string | null;
  displayNameKey: string | null;
  workEmailKey: string | null;
  active: boolean;
  managerId: string | null;
}

/** A stored user as storage returns it. */
export interface UserRecord {
  id: string;
  data: string;
  version: number;
  createdAt: number;
  updatedAt: number;
}

/** POST and PUT bodies: the full resource, userName required (RFC 7643 §4.1.1). */
export function prepareUser(body: unknown): PreparedUser {
  return prepareDocument(normalizeResource(body, USER_RESOURCE_TYPE));
}

export function prepareDocument(doc: ResourceDocument): PreparedUser {
  assertWithinLimits(doc);
  const userName = doc.userName;
  if (typeof userName !== "string" || userName.trim() === "") {
    throw badRequest("invalidValue", "userName is required and must be a non-empty string.");
  }
  const enterprise = doc[ENTERPRISE_USER_SCHEMA_ID];
  const manager = isPlainObject(enterprise) && isPlainObject(enterprise.manager) ? enterprise.manager.value : undefined;
  return {
    doc,
    folded: foldDocument(doc, USER_RESOURCE_TYPE),
    userName,
    userNameKey: fold(userName),
    externalId: typeof doc.externalId === "string" ? doc.externalId : null,
    displayNameKey: typeof doc.displayName === "string" ? fold(doc.displayName) : null,
    workEmailKey: workEmail(doc),
    active: doc.active !== false,
    managerId: typeof manager === "string" ? manager : null,
  };
}

/**
 * The value of the first email typed "work" (Entra maps userPrincipalName there; Entra requires types to be unique),
 * as stored: what pages show, and, folded, the key the search and Entra's matching use.
 */
export function workEmailValue(doc: ResourceDocument): string | null {
  if (!Array.isArray(doc.emails)) return null;
  const work = doc.emails.find((e) => isPlainObject(e) && typeof e.type === "string" && fold(e.type) === "work");
  return isPlainObject(work) && typeof work.value === "string" ? work.value : null;
}

const workEmail = (doc: ResourceDocument) => {
  const value = workEmailValue(doc);
  return value === null ? null : fold(value);
};

/** Storage → wire: schemas, id, attributes in stored order, `manager.$ref`, and server-owned meta. */
export function toScimUser(record: UserRecord, baseUrl: string, groups?: { id: string; displayName: string }[]) {
  const doc = JSON.parse(record.data) as ResourceDocument;
  if (groups && groups.length > 0) {
    doc.groups = groups.map((g) => ({
      value: g.id,
      $ref: `${baseUrl}/Groups/${g.id}`,
      display: g.displayName,
      type: "direct",
    }));
  }
  const schemas = [USER_SCHEMA_ID, ...Object.keys(doc).filter((k) => k.startsWith("urn:"))];
  const enterprise = doc[ENTERPRISE_USER_SCHEMA_ID];
  if (isPlainObject(enterprise) && isPlainObject(enterprise.manager) && typeof enterprise.manager.value === "string") {
    doc[ENTERPRISE_USER_SCHEMA_ID] = {
      ...enterprise,
      manager: { value: enterprise.manager.value, $ref: `${baseUrl}/Users/${enterprise.manager.value}` },
    };
  }
  const location = `${baseUrl}/Users/${record.id}`;
  return {
    schemas,
    id: record.id,
    ...doc,
    meta: {
      resourceType: "User",
      created: new Date(record.createdAt).toISOString(),
      lastModified: new Date(record.updatedAt).toISOString(),
      location,
      version: weakEtag(record.version),
    },
  };
}
