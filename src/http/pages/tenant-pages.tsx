import { type Context, Hono } from "hono";
import type { AppEnv } from "../../env";
import { allowedOrigins, scimBaseUrl, tokenUrl } from "../../lib/urls";
import { federationOf } from "../../oauth/federation";
import { INTEGRATION_ID, isProvider, LEGACY_INTEGRATION_ID, type Provider } from "../../scim/providers";
import {
  getAttributeMapping,
  listAttributes,
  previewAttributeMapping,
  replaceAttributeMapping,
} from "../../services/attributes";
import {
  getActivity,
  getDirectoryGroup,
  getDirectoryUser,
  listDirectoryGroups,
  listDirectoryUsers,
} from "../../services/directory";
import {
  addClientIntegration,
  addFederatedIntegration,
  applyIntegration,
  entraMethods,
  expectIntegrations,
  getIntegration,
  integrationChoices,
  integrationStatus,
  regenerateToken,
  regenerationPreview,
  removalPreview,
  removeIntegration,
} from "../../services/integration";
import { addSecret, DEFAULT_SECRET_TTL_SECONDS, getSecrets, removeSecret } from "../../services/oauth-clients";
import {
  fromThePages,
  listRoles,
  previewRoleMapping,
  type RoleMappingItem,
  replaceRoleMapping,
  roleMappingPage,
} from "../../services/roles";
import { defaultTokenTtl, EXPIRY_WARNING_MS, type IssuedToken } from "../../services/tokens";
import { spendSecretBudget } from "../secret-budget";
import { chromeOf, pageContext } from "./context";
import { PortalRefusal } from "./errors";
import { ActivityPage, KINDS, STATUSES, WINDOWS } from "./views/activity";
import { GroupPage, GroupsPage, UserPage, UsersPage } from "./views/directory";
import { ATTRIBUTE_FIELD, FieldsPage, FieldsPreviewPage } from "./views/fields";
import { GuidePage } from "./views/guide";
import {
  AddIntegrationPage,
  DisablePage,
  GRACE_CHOICES,
  IntegrationsPage,
  NOTICES,
  type Notice,
  RegeneratePage,
  TokenIssuedPage,
  UNMATCHED_CHOICES,
} from "./views/integration";
import { AddSecretPage, ClientIssuedPage, DeleteSecretPage } from "./views/oauth";
import { GROUP_FIELD, RolesPage, RolesPreviewPage } from "./views/roles";

/** Tenant ids are UUIDs; the pattern keeps the fixed paths beside a tenant's pages (`/portal/links/…`) out. */
export const TENANT = "/:tenantId{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}}";

const frameOf = (c: Context<AppEnv>) => c.var.portal.frame;
const tenantOf = (c: Context<AppEnv>) => frameOf(c).tenantId;
/** The tenant with where its data is, for the pages that read it. */
const placementOf = (c: Context<AppEnv>) => c.var.portal.tenant;
const page = (c: Context<AppEnv>) => ({ chrome: chromeOf(c), frame: frameOf(c) });

/** An integration id in a page's path; the legacy integration's (`azure-ad`) keeps its old URLs working. */
const INTEGRATION = "/:integrationId{[a-z0-9-]+}";
const integrationOf = (c: Context<AppEnv>) => c.req.param("integrationId") ?? LEGACY_INTEGRATION_ID;

/** What the token page shows of a token just issued: the integration, the values to paste, whether it ends soon. */
const tokenShown = (
  c: Context<AppEnv>,
  issued: IssuedToken & { integration: { id: string; name: string; provider: Provider } },
) => ({
  integration: issued.integration,
  scimBaseUrl: scimBaseUrl(c.req.url, tenantOf(c), issued.integration.id),
  token: issued.token,
  expiresAt: issued.expiresAt,
  expiringSoon: issued.expiresAt - c.var.now <= EXPIRY_WARNING_MS,
});

/**
 * Add integration for an Entra directory that gets access tokens from the token endpoint: a client id and its first
 * secret, or a federation with the issuer, subject and audience the admin copied from Entra (normalised, echoed).
 */
async function addClient(
  c: Context<AppEnv>,
  method: "oauth_client_credentials" | "workload_identity",
  form: Record<string, unknown>,
  seen: string[],
  takesOverFrom: string | undefined,
) {
  const ctx = pageContext(c);
  const tenantId = tenantOf(c);
  await expectIntegrations(ctx, tenantId, seen);
  const input = { provider: "entra" as const, takesOverFrom };
  const urls = { tokenUrl: tokenUrl(c.req.url) };
  if (method === "oauth_client_credentials") {
    const made = await addClientIntegration(ctx, tenantId, input, DEFAULT_SECRET_TTL_SECONDS);
    const secret = { value: made.clientSecret, expiresAt: made.secretExpiresAt };
    const scim = scimBaseUrl(c.req.url, tenantId, made.integration.id);
    return { integration: made.integration, scimBaseUrl: scim, ...urls, clientId: made.clientId, secret };
  }
  const text = (name: string) => (typeof form[name] === "string" ? String(form[name]) : "");
  const trusted = federationOf(
    { issuer: text("issuer"), subject: text("subject"), audience: text("audience") },
    allowedOrigins(c.env.WIF_ALLOWED_JWKS_ORIGINS),
  );
  if (!trusted.ok) throw new PortalRefusal(400, "Check the federation values", trusted.error);
  const made = await addFederatedIntegration(ctx, tenantId, input, trusted.federation);
  const scim = scimBaseUrl(c.req.url, tenantId, made.integration.id);
  return {
    integration: made.integration,
    scimBaseUrl: scim,
    ...urls,
    clientId: made.clientId,
    federation: made.federation,
  };
}

/** The changes a roles or fields preview lists on the page; the counts cover them all. */
const PREVIEW_ROWS = 20;

/**
 * The mapping the roles form proposes (views/roles.tsx names its fields), made whole for who is asking
 * (fromThePages), the fields to send again with Apply, and the version the form was on.
 */
async function proposedOnPage(c: Context<AppEnv>, integrationId: string) {
  const form = await c.req.parseBody();
  const text = (name: string) => (typeof form[name] === "string" ? String(form[name]).trim() : "");
  const fields = Object.keys(form)
    .filter((name) => name === "defaultRole" || name.startsWith(GROUP_FIELD) || name.startsWith("app."))
    .map((name): [string, string] => [name, text(name)])
    .filter(([, value]) => value !== "");
  const items: RoleMappingItem[] = [
    ...fields.flatMap(([name, role]) =>
      name.startsWith(GROUP_FIELD) ? [{ groupId: name.slice(GROUP_FIELD.length), role }] : [],
    ),
    ...fields.flatMap(([name, scimRole]) => {
      const n = /^app\.(\d+)\.value$/.exec(name)?.[1];
      const role = n === undefined ? "" : text(`app.${n}.role`);
      return role === "" ? [] : [{ scimRole, role }];
    }),
  ];
  const proposed = await fromThePages(
    pageContext(c),
    placementOf(c),
    { integrationId, defaultRole: text("defaultRole") || null, items },
    frameOf(c).operator,
  );
  // The version the form was on, which Apply names as If-Match: a form without one is not this page's.
  if (!/^\d{1,9}$/.test(text("version"))) {
    throw new PortalRefusal(400, "This form has expired", "Open the roles page again.");
  }
  const version = Number(text("version"));
  return { proposed, fields, version };
}

/**
 * The attribute mapping the fields form proposes (views/fields.tsx names its fields): a path per attribute, blank
 * ones left out; the fields to send again with Apply, and the version the form was on.
 */
async function fieldsOnPage(c: Context<AppEnv>) {
  const form = await c.req.parseBody();
  const fields = Object.entries(form)
    .filter(([name, value]) => name.startsWith(ATTRIBUTE_FIELD) && typeof value === "string" && value.trim() !== "")
    .map(([name, value]): [string, string] => [name, String(value).trim()]);
  const items = fields.map(([name, path]) => ({ key: name.slice(ATTRIBUTE_FIELD.length), path }));
  const version = typeof form.version === "string" ? form.version : "";
  if (!/^\d{1,9}$/.test(version)) throw new PortalRefusal(400, "This form has expired", "Open the fields page again.");
  return { items, fields, version: Number(version) };
}

/**
 * One tenant's pages, mounted twice: under the portal for the customer's admin and under the console for the
 * vendor's operators. The middleware in front sets the session's frame (the tenant, where its pages live, the
 * forms' token) after checking the session may see this tenant; the use cases are the admin API's.
 */
export const tenantPages = new Hono<AppEnv>()
  .get("/", (c) => c.redirect(frameOf(c).paths.home, 303))
  .get("/integrations", async (c) => {
    const status = await integrationStatus(pageContext(c), placementOf(c), frameOf(c).operator);
    const done = c.req.query("done");
    // Only what this viewer's own actions can lead to (NOTICES says which are the customer's).
    const notice =
      (Object.keys(NOTICES) as Notice[]).find((n) => n === done && (frameOf(c).operator || NOTICES[n].customer)) ??
      null;
    const scimBaseUrlOf = (integrationId: string) => scimBaseUrl(c.req.url, tenantOf(c), integrationId);
    const shown = { status, scimBaseUrlOf, tokenUrl: tokenUrl(c.req.url), now: c.var.now, notice };
    return c.html(IntegrationsPage({ ...page(c), ...shown }));
  })
  .get("/integrations/new", async (c) => {
    const { providers, sources, seen } = await integrationChoices(pageContext(c), tenantOf(c));
    const methods = entraMethods(c.env.ENTRA_AUTH_METHODS);
    return c.html(AddIntegrationPage({ ...page(c), providers, sources, seen, methods }));
  })
  .post("/integrations", async (c) => {
    const form = await c.req.parseBody();
    // A form without a provider is the one from before there was a choice: Entra's.
    const provider = form.provider === undefined ? "entra" : String(form.provider);
    if (!isProvider(provider)) throw new PortalRefusal(400, "Choose an identity provider", "Pick one of the options.");
    const seen = typeof form.seen === "string" && form.seen !== "" ? form.seen.split(",") : [];
    // "Moving from another directory?": none, or the integration whose users and groups the new one takes over.
    const from = typeof form.from === "string" && INTEGRATION_ID.test(form.from) ? form.from : undefined;
    const methods = entraMethods(c.env.ENTRA_AUTH_METHODS);
    const method = provider === "entra" ? (methods.find((m) => m === form.authentication) ?? methods[0]) : "bearer";
    if (method === "oauth_client_credentials" || method === "workload_identity") {
      return c.html(ClientIssuedPage({ ...page(c), shown: await addClient(c, method, form, seen, from), added: true }));
    }
    const ttl = defaultTokenTtl(c.env.TOKEN_DEFAULT_TTL_SECONDS);
    const issued = await applyIntegration(pageContext(c), tenantOf(c), provider, ttl, seen, from);
    return c.html(TokenIssuedPage({ ...page(c), ...tokenShown(c, issued) }));
  })
  .get(`/integrations${INTEGRATION}/regenerate`, async (c) => {
    const { integration, current, stopping } = await regenerationPreview(pageContext(c), tenantOf(c), integrationOf(c));
    return c.html(RegeneratePage({ ...page(c), integration, replaces: current?.id ?? "", stopping }));
  })
  .post(`/integrations${INTEGRATION}/regenerate`, async (c) => {
    const form = await c.req.parseBody();
    const grace = GRACE_CHOICES.find((choice) => choice.value === form.grace);
    if (!grace) throw new PortalRefusal(400, "Choose what happens to the old token", "Pick one of the options.");
    const ttl = defaultTokenTtl(c.env.TOKEN_DEFAULT_TTL_SECONDS);
    const replacing = typeof form.replaces === "string" && form.replaces !== "" ? form.replaces : null;
    const issued = await regenerateToken(pageContext(c), tenantOf(c), ttl, Number(grace.value), {
      replacing,
      integrationId: integrationOf(c),
    });
    return c.html(
      TokenIssuedPage({ ...page(c), ...tokenShown(c, issued), rotation: { graceUntil: issued.graceUntil } }),
    );
  })
  .get(`/integrations${INTEGRATION}/secrets`, async (c) => {
    const { integration } = await getIntegration(pageContext(c), tenantOf(c), integrationOf(c));
    return c.html(AddSecretPage({ ...page(c), integration }));
  })
  .post(`/integrations${INTEGRATION}/secrets`, async (c) => {
    const ctx = pageContext(c);
    const { integration } = await getIntegration(ctx, tenantOf(c), integrationOf(c));
    await spendSecretBudget(c, tenantOf(c), integration.id);
    const issued = await addSecret(ctx, tenantOf(c), integration.id, DEFAULT_SECRET_TTL_SECONDS);
    const { clientId } = await getSecrets(ctx, tenantOf(c), integration.id);
    const shown = {
      integration,
      scimBaseUrl: scimBaseUrl(c.req.url, tenantOf(c), integration.id),
      tokenUrl: tokenUrl(c.req.url),
      clientId,
      secret: { value: issued.clientSecret, expiresAt: issued.secretExpiresAt },
    };
    return c.html(ClientIssuedPage({ ...page(c), shown, added: false }));
  })
  .get(`/integrations${INTEGRATION}/secrets/:secretId{[0-9a-f-]{36}}/delete`, async (c) => {
    const { integration } = await getIntegration(pageContext(c), tenantOf(c), integrationOf(c));
    return c.html(DeleteSecretPage({ ...page(c), integration, secretId: c.req.param("secretId") }));
  })
  .post(`/integrations${INTEGRATION}/secrets/:secretId{[0-9a-f-]{36}}/delete`, async (c) => {
    await removeSecret(pageContext(c), tenantOf(c), integrationOf(c), c.req.param("secretId"));
    return c.redirect(`${frameOf(c).paths.home}?done=secret-deleted`, 303);
  })
  .get(`/integrations${INTEGRATION}/roles`, async (c) => {
    const ctx = pageContext(c);
    const { integration } = await getIntegration(ctx, tenantOf(c), integrationOf(c));
    const shown = await roleMappingPage(ctx, placementOf(c), integration.id);
    return c.html(RolesPage({ ...page(c), integration, ...shown }));
  })
  .post(`/integrations${INTEGRATION}/roles/preview`, async (c) => {
    const ctx = pageContext(c);
    const { integration } = await getIntegration(ctx, tenantOf(c), integrationOf(c));
    const { proposed, fields } = await proposedOnPage(c, integration.id);
    const [preview, roles] = await Promise.all([
      previewRoleMapping(ctx, tenantOf(c), proposed, { limit: PREVIEW_ROWS }),
      listRoles(ctx),
    ]);
    const roleNames = Object.fromEntries(roles.map((role) => [role.key, role.name]));
    return c.html(RolesPreviewPage({ ...page(c), integration, preview, roleNames, fields }));
  })
  .post(`/integrations${INTEGRATION}/roles`, async (c) => {
    const { integration } = await getIntegration(pageContext(c), tenantOf(c), integrationOf(c));
    const { proposed, version } = await proposedOnPage(c, integration.id);
    await replaceRoleMapping(pageContext(c), tenantOf(c), proposed, version);
    return c.redirect(`${frameOf(c).paths.home}?done=roles-applied`, 303);
  })
  .get(`/integrations${INTEGRATION}/fields`, async (c) => {
    const ctx = pageContext(c);
    const { integration } = await getIntegration(ctx, tenantOf(c), integrationOf(c));
    const [attributes, mapping] = await Promise.all([
      listAttributes(ctx),
      getAttributeMapping(ctx, tenantOf(c), integration.id),
    ]);
    return c.html(FieldsPage({ ...page(c), integration, attributes, mapping }));
  })
  .post(`/integrations${INTEGRATION}/fields/preview`, async (c) => {
    const ctx = pageContext(c);
    const { integration } = await getIntegration(ctx, tenantOf(c), integrationOf(c));
    const { items, fields } = await fieldsOnPage(c);
    const change = { integrationId: integration.id, items };
    const preview = await previewAttributeMapping(ctx, tenantOf(c), change, { limit: PREVIEW_ROWS });
    return c.html(FieldsPreviewPage({ ...page(c), integration, preview, fields }));
  })
  .post(`/integrations${INTEGRATION}/fields`, async (c) => {
    const { integration } = await getIntegration(pageContext(c), tenantOf(c), integrationOf(c));
    const { items, version } = await fieldsOnPage(c);
    await replaceAttributeMapping(pageContext(c), tenantOf(c), { integrationId: integration.id, items }, version);
    return c.redirect(`${frameOf(c).paths.home}?done=fields-applied`, 303);
  })
  .get(`/integrations${INTEGRATION}/disable`, async (c) => {
    const preview = await removalPreview(pageContext(c), tenantOf(c), integrationOf(c));
    return c.html(DisablePage({ ...page(c), ...preview }));
  })
  .post(`/integrations${INTEGRATION}/disable`, async (c) => {
    const form = await c.req.parseBody();
    const unmatched = UNMATCHED_CHOICES.find((choice) => choice === form.unmatched);
    await removeIntegration(pageContext(c), tenantOf(c), integrationOf(c), unmatched);
    return c.redirect(`${frameOf(c).paths.home}?done=disabled`, 303);
  })
  .get("/guide", (c) => {
    const asked = c.req.query("idp") ?? "";
    const idp = isProvider(asked) ? asked : "entra";
    // The URL is built from the tenant's own id and an id of the integration's form only; a made-up id shows a URL
    // that answers 401, nothing of another tenant.
    const integration = c.req.query("integration") ?? "";
    const integrationId = INTEGRATION_ID.test(integration) ? integration : LEGACY_INTEGRATION_ID;
    return c.html(GuidePage({ ...page(c), idp, scimBaseUrl: scimBaseUrl(c.req.url, tenantOf(c), integrationId) }));
  })
  .get("/users", async (c) => {
    const search = (c.req.query("search") ?? "").slice(0, 320);
    const list = await listDirectoryUsers(pageContext(c), placementOf(c), { search, after: c.req.query("after") });
    return c.html(UsersPage({ ...page(c), list, search }));
  })
  .get("/users/:userId", async (c) => {
    const detail = await getDirectoryUser(pageContext(c), placementOf(c), c.req.param("userId"), frameOf(c).operator);
    return c.html(UserPage({ ...page(c), detail }));
  })
  .get("/groups", async (c) => {
    const list = await listDirectoryGroups(pageContext(c), placementOf(c), c.req.query("after"));
    return c.html(GroupsPage({ ...page(c), list }));
  })
  .get("/groups/:groupId", async (c) => {
    const detail = await getDirectoryGroup(
      pageContext(c),
      placementOf(c),
      c.req.param("groupId"),
      c.req.query("after"),
    );
    return c.html(GroupPage({ ...page(c), detail }));
  })
  .get("/activity", async (c) => {
    const filters = {
      kind: KINDS.find(([key]) => key === c.req.query("kind"))?.[0] ?? "",
      status: STATUSES.find(([key]) => key === c.req.query("status"))?.[0] ?? "",
      window: WINDOWS.find(([key]) => key === c.req.query("window"))?.[0] ?? "24h",
    };
    const windowMs = WINDOWS.find(([key]) => key === filters.window)?.[2] ?? null;
    const before = (name: string) => {
      const value = Number(c.req.query(name));
      return Number.isSafeInteger(value) && value > 0 ? value : undefined;
    };
    const query = {
      actionPrefix: filters.kind || undefined,
      status: filters.status ? Number(filters.status) : undefined,
      since: windowMs === null ? undefined : c.var.now - windowMs,
      auditBefore: before("auditBefore"),
      failuresBefore: before("failuresBefore"),
    };
    const activity = await getActivity(pageContext(c), placementOf(c), query, frameOf(c).operator);
    // The next page of one list keeps the other where it is.
    const link = (name: string, id: number | null) =>
      id === null
        ? null
        : frameOf(c).paths.activity(
            `?${new URLSearchParams({ ...filters, ...pick(c.req.query(), ["auditBefore", "failuresBefore"]), [name]: String(id) })}`,
          );
    const more = {
      audit: link("auditBefore", activity.audit.next),
      failures: link("failuresBefore", activity.failures.next),
    };
    return c.html(ActivityPage({ ...page(c), activity, filters, more }));
  });

/** The named entries of a query, those present. */
const pick = (query: Record<string, string>, names: string[]) =>
  Object.fromEntries(names.filter((n) => query[n] !== undefined).map((n) => [n, query[n] as string]));
