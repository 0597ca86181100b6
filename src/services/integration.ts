import { type SQL, sql } from "drizzle-orm";
import { runBatch } from "../db/batch";
import { readIntegrationStatus } from "../db/integration-status";
import {
  deleteIntegration,
  endTakeoversFrom,
  type IntegrationRow,
  insertIntegration,
  listIntegrationRows,
  updateIntegration as updateIntegrationRow,
} from "../db/integrations";
import { QUOTAS, type Quota, type QuotaRow, quotaLevel } from "../db/quotas";
import { outboxRow } from "../db/relay";
import { deleteRoleMapping } from "../db/roles";
import { type Unmatched, unmatchedBySource } from "../db/takeover";
import { findTenant, findTenantWithIntegration, findTenantWithIntegrations, type TenantRow } from "../db/tenants";
import { integrationExists, listLiveTokens, listTokensBeyondGrace, type TokenRow, tenantEnabled } from "../db/tokens";
import type { Federation } from "../oauth/federation";
import { withHint } from "../scim/failure-hints";
import {
  AUTHENTICATION_METHODS,
  type AuthenticationMethod,
  LEGACY_INTEGRATION_ID,
  PROVIDER_IDS,
  PROVIDERS,
  type Provider,
} from "../scim/providers";
import { dataOf, forTenant, type OperatorContext, type TenantPlacement } from "./context";
import { AdminError, tenantNotFound } from "./errors";
import { setUpClient, setUpFederation } from "./oauth-clients";
import { relayNow } from "./relay";
import {
  azureAdDisabled,
  EXPIRY_WARNING_MS,
  type IssuingContext,
  issueToken,
  republishGrants,
  revokeAllTokens,
  rotateToken,
} from "./tokens";

const integrationMissing = (integrationId: string) =>
  new AdminError(
    "integration_not_found",
    integrationId === LEGACY_INTEGRATION_ID
      ? "This tenant has no Azure AD integration; create it first."
      : "This tenant has no integration with this id.",
  );

/** The tenant with the integration, or the admin error saying which of the two is missing. */
async function requireIntegration(ctx: OperatorContext, tenantId: string, integrationId: string) {
  const found = await findTenantWithIntegration(ctx.db, tenantId, integrationId);
  if (!found) throw tenantNotFound();
  if (!found.integration) throw integrationMissing(integrationId);
  return { tenant: found.tenant, integration: found.integration };
}

/** A provider the tenant's `allowedProviders` admits (none listed: every one). */
function requireAllowed(tenant: TenantRow, provider: Provider) {
  if (tenant.allowedProviders !== null && !tenant.allowedProviders.includes(provider)) {
    throw new AdminError(
      "provider_not_allowed",
      `The tenant's allowedProviders does not include ${provider}; change the tenant to allow it.`,
    );
  }
}

/**
 * The integration `source` another (`integrationId`) may take over from: one of the tenant's, not itself, and not
 * already being taken over by a third (two directories matching one's users would take them from each other).
 */
function requireTakeoverSource(
  integrations: readonly Pick<IntegrationRow, "id" | "takesOverFrom">[],
  integrationId: string,
  source: string,
) {
  if (source === integrationId) {
    throw new AdminError("invalid_request", "takesOverFrom: an integration cannot take over from itself.");
  }
  const from = integrations.find((integration) => integration.id === source);
  if (!from) {
    throw new AdminError("integration_not_found", `takesOverFrom: this tenant has no integration "${source}".`);
  }
  if (from.takesOverFrom === integrationId) {
    throw new AdminError("invalid_request", `takesOverFrom: "${source}" takes over from this integration.`);
  }
  const taker = integrations.find((i) => i.takesOverFrom === source && i.id !== integrationId);
  if (taker) {
    throw new AdminError("takeover_exists", `Integration "${taker.id}" takes over from "${source}" already.`);
  }
}

/**
 * What events say of an integration: `provider` as consumers read it before integrations were a model (the legacy
 * integration's is `azure-ad`, whatever it is relabelled to), and the integration itself.
 */
const eventIntegration = (integration: Pick<IntegrationRow, "id" | "provider">) => ({
  provider: integration.id === LEGACY_INTEGRATION_ID ? LEGACY_INTEGRATION_ID : integration.provider,
  integration: { id: integration.id, provider: integration.provider },
});

/**
 * Creates the legacy integration (`azure-ad`, an Entra one) and its first token, in one batch, taking over from
 * `takesOverFrom` when given (the portal's Add integration).
 */
export async function createIntegration(
  ctx: IssuingContext,
  tenantId: string,
  ttlSeconds: number,
  takesOverFrom?: string,
) {
  const found = await findTenantWithIntegrations(ctx.db, tenantId);
  if (!found) throw tenantNotFound();
  if (found.integrations.some((i) => i.id === LEGACY_INTEGRATION_ID)) {
    throw new AdminError("integration_exists", "The integration exists; regenerate its token instead.");
  }
  if (!found.tenant.azureAdEnabled) throw azureAdDisabled();
  requireAllowed(found.tenant, "entra");
  if (takesOverFrom !== undefined) requireTakeoverSource(found.integrations, LEGACY_INTEGRATION_ID, takesOverFrom);
  const integration = {
    id: LEGACY_INTEGRATION_ID,
    provider: "entra",
    name: PROVIDERS.entra.name,
    takesOverFrom: takesOverFrom ?? null,
  } as const;
  return setUp(ctx, found.tenant, integration, ttlSeconds);
}

/**
 * Adds an integration of `provider` (named as the provider registry names it unless `name` is given) and issues its
 * first token, in one batch. Its id is the provider and a random suffix: a URL segment, never the legacy id. With
 * `takesOverFrom` it takes over that integration's users and groups as its sync matches them.
 */
export async function addIntegration(ctx: IssuingContext, tenantId: string, input: NewIntegration, ttlSeconds: number) {
  const { tenant, integration } = await newIntegration(ctx, tenantId, input);
  return setUp(ctx, tenant, integration, ttlSeconds);
}

/** What adding an integration names; the rest (its id, its default name) is made here. */
interface NewIntegration {
  provider: Provider;
  name?: string;
  takesOverFrom?: string;
}

/** A new integration's row as the checks before its batch allow it: the tenant's switch, its providers, the takeover. */
async function newIntegration(ctx: OperatorContext, tenantId: string, input: NewIntegration) {
  const found = await findTenantWithIntegrations(ctx.db, tenantId);
  if (!found) throw tenantNotFound();
  const suffix = [...crypto.getRandomValues(new Uint8Array(3))].map((b) => b.toString(16).padStart(2, "0")).join("");
  const id = `${input.provider}-${suffix}`;
  if (input.takesOverFrom !== undefined) requireTakeoverSource(found.integrations, id, input.takesOverFrom);
  if (!found.tenant.azureAdEnabled) throw azureAdDisabled();
  requireAllowed(found.tenant, input.provider);
  const integration = {
    id,
    provider: input.provider,
    name: input.name ?? PROVIDERS[input.provider].name,
    takesOverFrom: input.takesOverFrom ?? null,
  };
  return { tenant: found.tenant, integration };
}

/**
 * Adds an integration whose directory authenticates with OAuth client credentials: its client id and first secret
 * (shown once), for the deployment's token endpoint; no bearer token.
 */
export async function addClientIntegration(
  ctx: IssuingContext,
  tenantId: string,
  input: NewIntegration,
  secretTtlSeconds: number,
) {
  const { tenant, integration } = await newIntegration(ctx, tenantId, input);
  const client = await setUpClient(ctx, { ...integration, tenantId }, secretTtlSeconds, (clientId) =>
    created(ctx, tenant, { ...integration, authentication: "oauth_client_credentials", clientId, federation: null }),
  );
  return { integration, ...client };
}

/**
 * Adds an integration whose directory (Entra) authenticates by workload identity federation: a client id for the
 * token endpoint, which accepts the JWTs `federation` describes (oauth/federation.ts checked it); no secret at all.
 */
export async function addFederatedIntegration(
  ctx: IssuingContext,
  tenantId: string,
  input: NewIntegration,
  federation: Federation,
) {
  const { tenant, integration } = await newIntegration(ctx, tenantId, input);
  const clientId = await setUpFederation(ctx, { ...integration, tenantId }, (id) =>
    created(ctx, tenant, { ...integration, authentication: "workload_identity", clientId: id, federation }),
  );
  return { integration, clientId, federation };
}

/** The statements that create an integration's row and record it, only while the tenant has the option on. */
const created = (
  ctx: OperatorContext,
  tenant: TenantPlacement,
  integration: Pick<
    IntegrationRow,
    "id" | "provider" | "name" | "takesOverFrom" | "authentication" | "clientId" | "federation"
  >,
) => [
  insertIntegration(tenant.id, integration, ctx.now),
  outboxRow(forTenant(ctx, tenant.id), {
    action: "integration.created",
    detail: integration.takesOverFrom === null ? undefined : { takesOverFrom: integration.takesOverFrom },
    event: { type: "integration.created", data: eventIntegration(integration) },
    from: sql`WHERE ${tenantEnabled(tenant.id)}`,
  }),
];

/** A bearer integration's row and first token, in one batch; its callers checked the tenant's switch and providers. */
async function setUp(
  ctx: IssuingContext,
  tenant: TenantRow,
  integration: Pick<IntegrationRow, "id" | "provider" | "name" | "takesOverFrom">,
  ttlSeconds: number,
) {
  const row = { ...integration, authentication: "bearer", clientId: null, federation: null } as const;
  const issued = await issueToken(
    ctx,
    tenant,
    { ...integration, pausedAt: null },
    ttlSeconds,
    created(ctx, tenant, row),
  );
  return { ...issued, integration };
}

/**
 * What Add integration offers: the providers the tenant allows, in the registry's order (Microsoft Entra ID first,
 * the seed's flow), the directories the new one could take over from (those no other takes over from already), and
 * the integrations it has now, which the form sends back (`applyIntegration`'s `seen`).
 */
export async function integrationChoices(ctx: OperatorContext, tenantId: string) {
  const found = await findTenantWithIntegrations(ctx.db, tenantId);
  if (!found) throw tenantNotFound();
  const { allowedProviders } = found.tenant;
  const takenOver = new Set(found.integrations.map((integration) => integration.takesOverFrom));
  return {
    enabled: found.tenant.azureAdEnabled,
    providers: PROVIDER_IDS.filter((provider) => allowedProviders === null || allowedProviders.includes(provider)),
    sources: found.integrations.filter((integration) => !takenOver.has(integration.id)),
    seen: found.integrations.map((integration) => integration.id),
  };
}

/**
 * Add integration → Apply: a new integration of `provider` and its first token, unless the tenant's integrations are
 * no longer those the form was shown with (`seen`): a form sent twice (a reload, a second click) must not add a
 * second integration, and shows what happened instead. Checked before the change, not in its batch, as the
 * regeneration's `replacing` is. The tenant's Entra integration, while it has no legacy one, is the legacy
 * integration: its URL is the tenant's own (`/scim/v2/{tenantId}`), the one the seed's setup has Entra's admin paste.
 */
export async function applyIntegration(
  ctx: IssuingContext,
  tenantId: string,
  provider: Provider,
  ttlSeconds: number,
  seen: readonly string[],
  takesOverFrom?: string,
) {
  const ids = await expectIntegrations(ctx, tenantId, seen);
  return provider === "entra" && !ids.includes(LEGACY_INTEGRATION_ID)
    ? createIntegration(ctx, tenantId, ttlSeconds, takesOverFrom)
    : addIntegration(ctx, tenantId, { provider, takesOverFrom }, ttlSeconds);
}

/**
 * The tenant's integrations are still those an Add integration form was shown with (`seen`): a form sent twice (a
 * reload, a second click) must not add a second integration. Returns their ids.
 */
export async function expectIntegrations(ctx: OperatorContext, tenantId: string, seen: readonly string[]) {
  const found = await findTenantWithIntegrations(ctx.db, tenantId);
  if (!found) throw tenantNotFound();
  const ids = found.integrations.map((integration) => integration.id);
  if ([...ids].sort().join() !== [...seen].sort().join()) {
    throw new AdminError("integration_exists", "The tenant's integrations changed since this form was shown.");
  }
  return ids;
}

/**
 * How an Entra integration added in the portal may authenticate (ENTRA_AUTH_METHODS, comma-separated): a gallery
 * app's method is fixed by its gallery template, so a deployment listed there offers that one; unset, the seed's
 * bearer token. Other providers use bearer tokens.
 */
export function entraMethods(configured: string | undefined): AuthenticationMethod[] {
  const listed = (configured ?? "")
    .split(",")
    .map((method) => method.trim())
    .filter((method): method is AuthenticationMethod => (AUTHENTICATION_METHODS as readonly string[]).includes(method));
  return listed.length > 0 ? [...new Set(listed)] : ["bearer"];
}

/**
 * What Disable integration confirms beforehand: the integration, and when another directory takes over from it,
 * that one and the users it still manages, which nobody matched (removeIntegration asks what becomes of them).
 */
export async function removalPreview(ctx: OperatorContext, tenantId: string, integrationId: string) {
  const found = await findTenantWithIntegrations(ctx.db, tenantId);
  if (!found) throw tenantNotFound();
  const integration = found.integrations.find((i) => i.id === integrationId);
  if (!integration) throw integrationMissing(integrationId);
  const taker = found.integrations.find((i) => i.takesOverFrom === integrationId) ?? null;
  if (!taker) return { tenant: found.tenant, integration, taker, unmatched: null };
  const scope = { tenantId, source: integrationId };
  const { users } = await unmatchedBySource(dataOf(ctx, found.tenant), scope, { users: [], groups: [] });
  return { tenant: found.tenant, integration, taker, unmatched: users };
}

export type RemovalPreview = Awaited<ReturnType<typeof removalPreview>>;

/**
 * The integration and its tokens: the current one is the newest live token; older live ones are in a grace period.
 * `azureAdEnabled` is the tenant's switch (integrationsEnabled).
 */
export async function getIntegration(ctx: OperatorContext, tenantId: string, integrationId = LEGACY_INTEGRATION_ID) {
  const { tenant, integration } = await requireIntegration(ctx, tenantId, integrationId);
  const tokens = await listLiveTokens(ctx.db, tenantId, ctx.now, integrationId);
  return { azureAdEnabled: tenant.azureAdEnabled, ...integrationView(integration, tokens, ctx.now) };
}

export type IntegrationView = ReturnType<typeof integrationView<TokenRow>>;

function integrationView<T extends { expiresAt: number }>(integration: IntegrationRow, tokens: T[], now: number) {
  return { integration, createdAt: integration.createdAt, ...tokenStanding(tokens, now) };
}

/** Every integration of the tenant with its tokens (a tenant has few: one read of each table). */
export async function listIntegrations(ctx: OperatorContext, tenantId: string) {
  if (!(await findTenant(ctx.db, tenantId))) throw tenantNotFound();
  const [rows, tokens] = await Promise.all([
    listIntegrationRows(ctx.db, tenantId),
    listLiveTokens(ctx.db, tenantId, ctx.now),
  ]);
  return rows.map((row) =>
    integrationView(
      row,
      tokens.filter((t) => t.integrationId === row.id),
      ctx.now,
    ),
  );
}

/**
 * Renames, pauses or resumes an integration, starts or ends its takeover of another (`takesOverFrom`), or relabels
 * the legacy one's provider (it was set up as Entra's before there was a choice; another directory's admin may have
 * pasted its URL). A pause, a takeover or their end reaches the grants of its live tokens right away, so the SCIM
 * fast path sees them without waiting for the grants to expire.
 */
export async function updateIntegration(
  ctx: OperatorContext,
  tenantId: string,
  integrationId: string,
  changes: { name?: string; paused?: boolean; provider?: Provider; takesOverFrom?: string | null },
) {
  const found = await findTenantWithIntegrations(ctx.db, tenantId);
  if (!found) throw tenantNotFound();
  const { tenant } = found;
  const integration = found.integrations.find((i) => i.id === integrationId);
  if (!integration) throw integrationMissing(integrationId);
  if (changes.takesOverFrom != null) requireTakeoverSource(found.integrations, integrationId, changes.takesOverFrom);
  if (changes.provider !== undefined && changes.provider !== integration.provider) {
    if (integrationId !== LEGACY_INTEGRATION_ID) {
      throw new AdminError(
        "invalid_request",
        "provider: only the legacy integration (azure-ad) can be relabelled; add an integration instead.",
      );
    }
    requireAllowed(tenant, changes.provider);
  }
  const pausedAt =
    changes.paused === undefined ? integration.pausedAt : changes.paused ? (integration.pausedAt ?? ctx.now) : null;
  const set = {
    name: changes.name,
    provider: changes.provider,
    takesOverFrom: changes.takesOverFrom,
    pausedAt,
    updatedAt: ctx.now,
  };
  await runBatch(ctx.db, [
    outboxRow(forTenant(ctx, tenantId), {
      action: "integration.updated",
      detail: { integrationId, ...changes },
      from: sql`WHERE ${integrationExists(tenantId, integrationId)}`,
    }),
    updateIntegrationRow(ctx.db, tenantId, integrationId, set),
  ]);
  await relayNow(ctx, tenantId);
  const updated = await getIntegration(ctx, tenantId, integrationId);
  const { pausedAt: paused, takesOverFrom } = updated.integration;
  if (paused !== integration.pausedAt || takesOverFrom !== integration.takesOverFrom) {
    await republishGrants(ctx, tenant, updated.integration);
  }
  return updated;
}

/** Live tokens, newest first, as the integration presents them: the current one, those in grace, the warning. */
function tokenStanding<T extends { expiresAt: number }>([current, ...inGrace]: T[], now: number) {
  return {
    current: current ?? null,
    inGrace,
    expiringSoon: current ? current.expiresAt - now <= EXPIRY_WARNING_MS : false,
  };
}

/** The window of the failures an integration's card counts, and the console's tenant list. */
export const FAILURE_WINDOW_MS = 86_400_000;
/** The failures an integration's card lists, newest first; the Activity page has them all. */
const NEWEST_FAILURES_SHOWN = 3;

/**
 * Everything a tenant's integrations page shows: whether integrations are on, and per integration its tokens, when
 * its directory last called, what it provisions, and its failures of the last 24 hours (the newest with their hints,
 * in its provider's words); the tenant's quota notices; for an operator (`operator`), also what only the console's
 * panel shows: the customer's open sessions, the latest move, the databases it could move to. One read of each
 * database, however many integrations there are.
 */
export async function integrationStatus(ctx: OperatorContext, tenant: TenantPlacement, operator: boolean) {
  const status = await readIntegrationStatus(
    { control: ctx.db, data: dataOf(ctx, tenant) },
    tenant.id,
    ctx.now,
    { since: ctx.now - FAILURE_WINDOW_MS, each: NEWEST_FAILURES_SHOWN },
    operator,
  );
  if (!status) throw tenantNotFound();
  return {
    ...status,
    integrations: status.integrations.map(({ integration, tokens, newestFailures, ...seen }) => ({
      ...integrationView(integration, tokens, ctx.now),
      ...seen,
      newestFailures: newestFailures.map((row) => withHint(row, integration.provider)),
    })),
    quotaNotices: quotaNotices(status.quotas),
    operator: status.operator && { ...status.operator, databases: ctx.databases.names },
  };
}

export type IntegrationStatus = Awaited<ReturnType<typeof integrationStatus>>;

/** The quotas at 80 % of their limit or more, highest first: what the page warns of before writes are refused. */
function quotaNotices(quotas: Record<Quota, QuotaRow>) {
  return QUOTAS.flatMap((quota) => {
    const { used, own, deployment } = quotas[quota];
    const limit = own ?? deployment;
    const percent = quotaLevel(used, limit);
    return percent === null || limit === null ? [] : [{ quota, percent, used, limit }];
  }).sort((a, b) => b.used / b.limit - a.used / a.limit);
}

/**
 * What "Regenerate access token" confirms beforehand: the token it replaces, and which earlier token a rotation with
 * grace would stop at once (at most two work: rotateToken keeps the one most recently used). Read by the rotation's
 * own rule; the rotation applies it again when it runs.
 */
export async function regenerationPreview(
  ctx: OperatorContext,
  tenantId: string,
  integrationId = LEGACY_INTEGRATION_ID,
) {
  const [{ integration, current }, stopping] = await Promise.all([
    getIntegration(ctx, tenantId, integrationId),
    listTokensBeyondGrace(ctx.db, tenantId, integrationId, ctx.now),
  ]);
  return {
    integration,
    current,
    stopping: stopping.map((token) => ({ ...token, isCurrent: token.id === current?.id })),
  };
}

export type RegenerationPreview = Awaited<ReturnType<typeof regenerationPreview>>;

/** "Regenerate access token": a new token; the old ones stop now or after `graceSeconds`. */
export async function regenerateToken(
  ctx: IssuingContext,
  tenantId: string,
  ttlSeconds: number,
  graceSeconds: number,
  options: { replacing?: string | null; integrationId?: string } = {},
) {
  const integrationId = options.integrationId ?? LEGACY_INTEGRATION_ID;
  const { tenant, integration } = await requireIntegration(ctx, tenantId, integrationId);
  if (!tenant.azureAdEnabled) throw azureAdDisabled();
  if (integration.authentication !== "bearer") {
    throw new AdminError(
      "wrong_authentication",
      "This integration's directory gets access tokens from the token endpoint.",
    );
  }
  if (options.replacing !== undefined) await expectCurrentToken(ctx, tenantId, integrationId, options.replacing);
  const issued = await rotateToken(ctx, tenant, integration, ttlSeconds, graceSeconds);
  return { ...issued, integration, graceUntil: graceSeconds > 0 ? ctx.now + graceSeconds * 1000 : null };
}

/**
 * A regeneration that names the token it replaces happens only while that token (or none, for null) is the current
 * one: a form sent twice (a reload, a second click) must not rotate again and end the token just pasted into Entra.
 * Checked before the rotation, not in its batch: two rotations racing each other are both wanted, as on the admin
 * API.
 */
async function expectCurrentToken(
  ctx: OperatorContext,
  tenantId: string,
  integrationId: string,
  tokenId: string | null,
) {
  const [current] = await listLiveTokens(ctx.db, tenantId, ctx.now, integrationId);
  if ((current?.id ?? null) !== tokenId) {
    throw new AdminError("token_superseded", "The token this request meant to replace has been replaced already.");
  }
}

/** What becomes of the users a directory being taken over still manages when it is removed: nobody matched them. */
export type UnmatchedUsers = "keep" | "deactivate";

/**
 * Revokes the integration's tokens and removes it; the users it manages (and only those) are handed back to the
 * product, none deleted, in the relay's chunks. Another integration's tokens and users are not touched.
 *
 * Removing a directory another takes over from ends that takeover: what the taker matched is the taker's already,
 * and the users nobody matched are reported (the refusal below, the audit row and `integration.takeover_ended`). They are
 * never left active without a decision: while there are any, the removal is refused unless `unmatched` says whether
 * to hand them back active (`keep`) or deactivated (`deactivate`, each with its `user.deactivated`).
 */
export async function removeIntegration(
  ctx: OperatorContext,
  tenantId: string,
  integrationId = LEGACY_INTEGRATION_ID,
  unmatched?: UnmatchedUsers,
) {
  const { tenant, integration, taker, unmatched: left } = await removalPreview(ctx, tenantId, integrationId);
  if (taker && left && left.count > 0 && unmatched === undefined) {
    throw new AdminError(
      "takeover_unmatched",
      `${left.count} users of "${integrationId}" were not matched by "${taker.id}", which takes over from it ` +
        `(first: ${left.sample
          .slice(0, 5)
          .map((u) => u.name)
          .join(", ")}). Remove it with unmatched=deactivate to deactivate them, or unmatched=keep to hand them ` +
        "back to the product active; the takeover preview lists them.",
    );
  }
  // As decided, whatever the count read above: users the old directory creates until its token stops are unmatched too.
  const deactivate = taker !== null && unmatched === "deactivate";
  // The record of the removal first, only while there is an integration to remove (a concurrent removal may have
  // taken it since the check above).
  const whileIntegrated = sql`WHERE ${integrationExists(tenantId, integrationId)}`;
  await revokeAllTokens(
    ctx,
    tenantId,
    "integration_deleted",
    [
      ...(taker && left ? takeoverEnded(ctx, tenantId, { integration, taker, left, deactivate }, whileIntegrated) : []),
      outboxRow(forTenant(ctx, tenantId), {
        action: "integration.deleted",
        event: { type: "integration.deleted", data: eventIntegration(integration) },
        effect: { releaseManagedUsers: true, integrationId, ...(deactivate ? { deactivate } : {}) },
        from: whileIntegrated,
      }),
      deleteIntegration(ctx.db, tenantId, integrationId),
      // Its role mapping goes with it (the release removes the data database's copy): a role it named can be
      // dropped, and an integration added again with this id starts from none.
      deleteRoleMapping(tenantId, integrationId),
      // By condition, not the taker read above: one that a concurrent change made takes over from none either.
      endTakeoversFrom(ctx.db, tenantId, integrationId, ctx.now),
    ],
    integration,
  );
  // The taker's grants stop reaching the removed directory's rows, with its state as it stands now.
  const after = taker && (await findTenantWithIntegration(ctx.db, tenantId, taker.id));
  if (after?.integration) await republishGrants(ctx, tenant, after.integration);
}

/** The end of a takeover whose source goes: its report (audit row, event), and the taker taking over from none. */
function takeoverEnded(
  ctx: OperatorContext,
  tenantId: string,
  ending: { integration: IntegrationRow; taker: IntegrationRow; left: Unmatched; deactivate: boolean },
  whileIntegrated: SQL,
) {
  const { integration, taker, left } = ending;
  const action = ending.deactivate ? "deactivated" : "kept";
  return [
    outboxRow(forTenant(ctx, tenantId), {
      action: "integration.takeover_ended",
      detail: { integrationId: taker.id, from: integration.id, unmatched: left.count, action },
      event: {
        type: "integration.takeover_ended",
        data: {
          integration: { id: taker.id, provider: taker.provider },
          from: { id: integration.id, provider: integration.provider },
          unmatched: { count: left.count, users: left.sample.map((u) => ({ id: u.id, userName: u.name })) },
          action,
        },
      },
      from: whileIntegrated,
    }),
  ];
}
