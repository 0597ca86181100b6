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
}

export const USER_RESOURCE_TYPE: ResourceTypeDef = {
  name: "User",
  endpoint: "/Users",
  description: "User Account",
  schema: USER_SCHEMA,
  extensions: [ENTERPRISE_USER_SCHEMA],
};

export const GROUP_RESOURCE_TYPE: ResourceTypeDef = {
  name: "Group",
  endpoint: "/Groups",
  description: "Group",
  schema: GROUP_SCHEMA,
  extensions: [],
};

export const RESOURCE_TYPES = [USER_RESOURCE_TYPE, GROUP_RESOURCE_TYPE];

/** Top-level attributes of a resource's core schema, with the common ones (id, externalId, meta). */
export function coreAttributes(rt: ResourceTypeDef): AttributeDef[] {
  return [...COMMON_ATTRIBUTES, ...rt.schema.attributes];
}
