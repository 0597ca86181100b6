import { scim, type TestTenant } from "./http";
import { USER_SCHEMA } from "./scim";

export interface ScimUser {
  id: string;
  userName: string;
  schemas: string[];
  meta: { resourceType: string; created: string; lastModified: string; location: string; version: string };
  [key: string]: unknown;
}

export interface ListResponse<T = ScimUser> {
  schemas: string[];
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  Resources: T[];
}

export async function createUser(tenant: TestTenant, body: Record<string, unknown>) {
  const res = await scim(tenant, "POST", "/Users", {
    body: { schemas: [USER_SCHEMA], ...body },
  });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${await res.text()}`);
  return res.json<ScimUser>();
}

export async function filterUsers(tenant: TestTenant, filter: string, extra = "") {
  const res = await scim(tenant, "GET", `/Users?filter=${encodeURIComponent(filter)}${extra}`);
  if (res.status !== 200) throw new Error(`filter ${filter} failed: ${res.status} ${await res.text()}`);
  return res.json<ListResponse>();
}
