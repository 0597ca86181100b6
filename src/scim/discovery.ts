import { MAX_PAGE_SIZE } from "./paging";
import { COMMON_ATTRIBUTES } from "./schema/common";
import { RESOURCE_TYPES, type ResourceTypeDef } from "./schema/resource-types";
import type { AttributeDef, SchemaDef } from "./schema/types";

/**
 * RFC 7644 §4 discovery documents, rendered from the same definitions that validate input and resolve filters,
 * so what is advertised is what is enforced.
 */
const SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema";
const RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

export interface Capabilities {
  patch: boolean;
  etag: boolean;
}

export function serviceProviderConfig(baseUrl: string, capabilities: Capabilities) {
  return {
    schemas: [SPC_SCHEMA],
    documentationUri: "https://datatracker.ietf.org/doc/html/rfc7644",
    patch: { supported: capabilities.patch },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_PAGE_SIZE },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: capabilities.etag },
    authenticationSchemes: [
      {
        type: "oauthbearertoken",
        name: "OAuth Bearer Token",
        description: "The Secret Token issued for this tenant, sent as Authorization: Bearer <token>.",
        primary: true,
      },
    ],
    meta: { resourceType: "ServiceProviderConfig", location: `${baseUrl}/ServiceProviderConfig` },
  };
}

export function resourceTypeDocument(rt: ResourceTypeDef, baseUrl: string) {
  return {
    schemas: [RESOURCE_TYPE_SCHEMA],
    id: rt.name,
    name: rt.name,
    endpoint: rt.endpoint,
    description: rt.description,
    schema: rt.schema.id,
    schemaExtensions: rt.extensions.map((s) => ({ schema: s.id, required: false })),
    meta: { resourceType: "ResourceType", location: `${baseUrl}/ResourceTypes/${rt.name}` },
  };
}

/**
 * The client-writable common attribute, `externalId`, rendered in each resource type's core schema. RFC 7643 §3.1
 * keeps common attributes out of schemas, but Microsoft's gallery validation looks every mapped attribute up in
 * /Schemas, externalId included (it is Entra's matching attribute), and fails a schema without it; `id` and `meta`
 * are server-owned and stay out.
 */
const ADVERTISED_COMMON = COMMON_ATTRIBUTES.filter((attribute) => attribute.name === "externalId");

const isCoreSchema = (schema: SchemaDef) => RESOURCE_TYPES.some((rt) => rt.schema === schema);

export function schemaDocument(schema: SchemaDef, baseUrl: string) {
  const attributes = isCoreSchema(schema) ? [...ADVERTISED_COMMON, ...schema.attributes] : schema.attributes;
  return {
    schemas: [SCHEMA_SCHEMA],
    id: schema.id,
    name: schema.name,
    description: schema.description,
    attributes: attributes.map(renderAttribute),
    meta: { resourceType: "Schema", location: `${baseUrl}/Schemas/${schema.id}` },
  };
}

export const allSchemas = () => RESOURCE_TYPES.flatMap((rt) => [rt.schema, ...rt.extensions]);

function renderAttribute(def: AttributeDef): Record<string, unknown> {
  const { subAttributes, custom: _, ...rest } = def;
  return subAttributes ? { ...rest, subAttributes: subAttributes.map(renderAttribute) } : rest;
}
