/**
 * The SCIM names the tests write and expect on the wire (RFC 7643 §8.7.1, RFC 7644 §3.1 and §3.4.2), spelled out
 * once here rather than imported from src: a test reading the service's own constants would pass whatever they said.
 * Plain values only, so that the unit tests on Node can import them as well as those in workerd.
 */

export const USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
export const GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group";
export const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
export const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
export const LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
export const ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error";

/** The media type of SCIM bodies, requests and responses alike. */
export const SCIM_JSON = "application/scim+json";

/** A PATCH request body of these operations. */
export const patchBody = (operations: unknown[]) => ({ schemas: [PATCH_OP], Operations: operations });
