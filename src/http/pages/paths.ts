import { LEGACY_INTEGRATION_ID, type Provider } from "../../scim/providers";

/**
 * The pages' URLs in one place. A tenant's pages exist twice with the same views: under the portal for the
 * customer's admin (`/portal/{tenantId}`, where their session cookie is scoped, so the browser sends a session only
 * to its own tenant's pages) and under the console for the vendor's operators (`/console/tenants/{tenantId}`).
 */
export const portalPaths = {
  link: (secret: string) => `/portal/links/${secret}`,
  continue: "/portal/continue",
  sessions: "/portal/sessions",
  stylesheet: "/portal/assets/portal.css",
  script: "/portal/assets/portal.js",
  icon: "/portal/assets/icon.svg",
  logo: "/portal/assets/logo",
  tenant: (tenantId: string) => `/portal/${tenantId}`,
  signOut: (tenantId: string) => `/portal/${tenantId}/sign-out`,
};

export const consolePaths = {
  home: "/console",
  signIn: "/console/sign-in",
  signOut: "/console/sign-out",
  tenants: (query = "") => `/console/tenants${query}`,
  tenant: (tenantId: string) => `/console/tenants/${tenantId}`,
  setupLinks: (tenantId: string) => `/console/tenants/${tenantId}/setup-links`,
  endSessions: (tenantId: string) => `/console/tenants/${tenantId}/end-sessions`,
  option: (tenantId: string) => `/console/tenants/${tenantId}/azure-ad-option`,
  move: (tenantId: string) => `/console/tenants/${tenantId}/move`,
  rollBack: (tenantId: string) => `/console/tenants/${tenantId}/move/roll-back`,
};

/** The pages of one tenant under `base` (a POST to `home` adds the integration). */
export function areaPaths(base: string) {
  return {
    home: `${base}/integrations`,
    add: `${base}/integrations/new`,
    regenerate: (integrationId: string) => `${base}/integrations/${encodeURIComponent(integrationId)}/regenerate`,
    disable: (integrationId: string) => `${base}/integrations/${encodeURIComponent(integrationId)}/disable`,
    /** The integration's role mapping: the form (GET), its preview (POST …/preview), applying it (POST). */
    roles: (integrationId: string) => `${base}/integrations/${encodeURIComponent(integrationId)}/roles`,
    rolesPreview: (integrationId: string) => `${base}/integrations/${encodeURIComponent(integrationId)}/roles/preview`,
    /** The integration's attribute mapping, likewise. */
    fields: (integrationId: string) => `${base}/integrations/${encodeURIComponent(integrationId)}/fields`,
    fieldsPreview: (integrationId: string) =>
      `${base}/integrations/${encodeURIComponent(integrationId)}/fields/preview`,
    /** An OAuth integration's client secrets: add one (GET confirms, POST adds), delete one (likewise). */
    addSecret: (integrationId: string) => `${base}/integrations/${encodeURIComponent(integrationId)}/secrets`,
    deleteSecret: (integrationId: string, secretId: string) =>
      `${base}/integrations/${encodeURIComponent(integrationId)}/secrets/${encodeURIComponent(secretId)}/delete`,
    /** The guide for `idp`, with the SCIM base URL of `integrationId` (the tenant's own URL without one). */
    guide: (idp?: Provider, integrationId?: string) => {
      const query = new URLSearchParams({
        ...(idp && idp !== "entra" && { idp }),
        ...(integrationId && integrationId !== LEGACY_INTEGRATION_ID && { integration: integrationId }),
      }).toString();
      return `${base}/guide${query && `?${query}`}`;
    },
    users: (query = "") => `${base}/users${query}`,
    user: (userId: string) => `${base}/users/${encodeURIComponent(userId)}`,
    groups: (query = "") => `${base}/groups${query}`,
    group: (groupId: string, query = "") => `${base}/groups/${encodeURIComponent(groupId)}${query}`,
    activity: (query = "") => `${base}/activity${query}`,
  };
}

export type AreaPaths = ReturnType<typeof areaPaths>;
