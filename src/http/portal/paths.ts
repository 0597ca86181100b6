/**
 * The portal's URLs in one place. A signed-in page lives under its tenant's path, and so does its session cookie:
 * the browser sends a session only to its own tenant's pages, and an admin can hold sessions for two tenants.
 */
export const portalPaths = {
  link: (secret: string) => `/portal/links/${secret}`,
  continue: "/portal/continue",
  sessions: "/portal/sessions",
  stylesheet: "/portal/assets/portal.css",
  script: "/portal/assets/portal.js",
  icon: "/portal/assets/icon.svg",
  tenant: (tenantId: string) => `/portal/${tenantId}`,
  /** The integrations page; a POST to it adds the integration. */
  home: (tenantId: string) => `/portal/${tenantId}/integrations`,
  add: (tenantId: string) => `/portal/${tenantId}/integrations/new`,
  regenerate: (tenantId: string) => `/portal/${tenantId}/integrations/azure-ad/regenerate`,
  disable: (tenantId: string) => `/portal/${tenantId}/integrations/azure-ad/disable`,
  guide: (tenantId: string, idp?: "okta") => `/portal/${tenantId}/guide${idp ? `?idp=${idp}` : ""}`,
  signOut: (tenantId: string) => `/portal/${tenantId}/sign-out`,
};
