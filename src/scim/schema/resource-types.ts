import { COMMON_ATTRIBUTES } from "./common";
import { GROUP_SCHEMA } from "./group";
import type { AttributeDef, SchemaDef } from "./types";
import { ENTERPRISE_USER_SCHEMA, USER_SCHEMA } from "./user";

export interface ResourceTypeDef {
  name: string;
  endpoint: string;
  description: string;
  schema: SchemaDef;
  extensions: SchemaDef[];
  /**
   * The attribute that is a relationship to other resources rather than data of this one (a user's `groups`, a
   * group's `members`): filterable by `value eq "<id>"` or presence only.
   */
  membership: string;
}

export const USER_RESOURCE_TYPE: ResourceTypeDef = {
  name: "User",
  endpoint: "/Users",
  description: "User Account",
  schema: USER_SCHEMA,
  extensions: [ENTERPRISE_USER_SCHEMA],
  membership: "groups",
};

export const GROUP_RESOURCE_TYPE: ResourceTypeDef = {
  name: "Group",
  endpoint: "/Groups",
  description: "Group",
  schema: GROUP_SCHEMA,
  extensions: [],
  membership: "members",
};

export const RESOURCE_TYPES = [USER_RESOURCE_TYPE, GROUP_RESOURCE_TYPE];

/** Top-level attributes of a resource's core schema, with the common ones (id, externalId, meta). */
export function coreAttributes(rt: ResourceTypeDef): AttributeDef[] {
  return [...COMMON_ATTRIBUTES, ...rt.schema.attributes];
}
