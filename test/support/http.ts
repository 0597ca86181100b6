import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { createApp } from "../../src/app";
import type { Clock } from "../../src/env";
import { APP_SURFACES } from "../../src/surfaces";
import { checkAdminResponse } from "./openapi";
import { ERROR_SCHEMA, SCIM_JSON } from "./scim";

export const ORIGIN = "https://scim.test";

export type Fetch = (request: Request) => Promise<Response>;

/** The deployed worker's fetch, as Entra reaches it. */
export const workerFetch: Fetch = (request) => exports.default.fetch(request);

/**
 * The same app with its own clock and/or some bindings replaced (failing or counting D1, a stub rate limiter).
 * Waits for waitUntil work, so nothing a request left behind leaks into the next assertion.
 */
export function fetchWith({ clock, bindings = {} }: { clock?: Clock; bindings?: Partial<Env> }): Fetch {
  const app = createApp({ clock, surfaces: APP_SURFACES });
  return async (request) => {
    const ctx = createExecutionContext();
    const response = await app.fetch(request, { ...env, ...bindings }, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  };
}

/** For tests that move time (expiry, grace periods) instead of sleeping. */
export const fetchAt = (clock: Clock) => fetchWith({ clock });

/** The app as it will be `ms` from now. */
export const fetchLater = (ms: number) => fetchAt(() => Date.now() + ms);

interface Call {
  body?: unknown;
  headers?: Record<string, string>;
  fetch?: Fetch;
}

/**
 * The one way tests build a request to the worker: a path on its origin, an optional `Authorization` value, a body
 * as JSON (or a string sent as is) and exactly the headers given.
 */
export function request(
  method: string,
  path: string,
  { auth, body, headers = {} }: { auth?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  return new Request(`${ORIGIN}${path}`, {
    method,
    headers: auth === undefined ? headers : { ...headers, Authorization: auth },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
}

function send(method: string, path: string, auth: string, { body, headers = {}, fetch = workerFetch }: Call) {
  const withType = body === undefined ? headers : { "Content-Type": "application/json", ...headers };
  return fetch(request(method, path, { auth, body, headers: withType }));
}

/** An admin API call with the admin key; its response is checked against the OpenAPI document (support/openapi.ts). */
export async function admin(method: string, path: string, call: Call = {}) {
  const response = await send(method, `/admin${path}`, `Bearer ${env.ADMIN_API_KEY}`, call);
  await checkAdminResponse(method, `${ORIGIN}/admin${path}`, response);
  return response;
}

export interface TestTenant {
  tenantId: string;
  token: string;
  tokenId: string;
  base: string;
}

/**
 * A tenant with the Azure AD option on and its integration created: what an operator sets up for a customer.
 * `database` places it on that data database (else the service chooses).
 */
export async function createTenant(name = "Contoso", placement: { database?: string } = {}): Promise<TestTenant> {
  const tenant = await (await admin("POST", "/tenants", { body: { name, azureAdEnabled: true, ...placement } })).json<{
    id: string;
  }>();
  const res = await admin("POST", `/tenants/${tenant.id}/integrations/azure-ad`, { body: {} });
  if (res.status !== 201) throw new Error(`integration setup failed: ${res.status} ${await res.text()}`);
  const issued = await res.json<{ token: string; tokenId: string }>();
  return { tenantId: tenant.id, token: issued.token, tokenId: issued.tokenId, base: `/scim/v2/${tenant.id}` };
}

/** A SCIM request with Entra's headers: bearer token, `application/scim+json` bodies. */
export function scim(tenant: Pick<TestTenant, "token" | "base">, method: string, path: string, call: Call = {}) {
  const headers = {
    ...(call.body !== undefined ? { "Content-Type": `${SCIM_JSON}; charset=utf-8` } : {}),
    ...call.headers,
  };
  return send(method, `${tenant.base}${path}`, `Bearer ${tenant.token}`, { ...call, headers });
}

export async function expectScimError(res: Response, status: number, scimType?: string) {
  const body = await res.json<{ schemas: string[]; status: string; scimType?: string; detail?: string }>();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${JSON.stringify(body)}`);
  if (res.headers.get("Content-Type") !== SCIM_JSON) throw new Error("not application/scim+json");
  if (body.schemas?.[0] !== ERROR_SCHEMA) throw new Error("not a SCIM error body");
  if (body.status !== String(status)) throw new Error(`status field ${body.status}`);
  if (body.scimType !== scimType) throw new Error(`expected scimType ${scimType}, got ${body.scimType}`);
  return body;
}
