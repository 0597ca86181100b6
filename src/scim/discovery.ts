import { MAX_PAGE_SIZE } from "./paging";
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

export function schemaDocument(schema: SchemaDef, baseUrl: string) {
  return {
    schemas: [SCHEMA_SCHEMA],
    id: schema.id,
    name: schema.name,
    description: schema.description,
    attributes: schema.attributes.map(renderAttribute),
    meta: { resourceType: "Schema", location: `${baseUrl}/Schemas/${schema.id}` },
  };
}

export const allSchemas = () => RESOURCE_TYPES.flatMap((rt) => [rt.schema, ...rt.extensions]);

function renderAttribute(def: AttributeDef): Record<string, unknown> {
  const { subAttributes, custom: _, ...rest } = def;
  return subAttributes ? { ...rest, subAttributes: subAttributes.map(renderAttribute) } : rest;
}
