import { sql } from "drizzle-orm";
import { rowsOf, runNamedBatch, type Statement } from "../db/batch";
import type { IntegrationRow } from "../db/integrations";
import { deleteSecret, insertSecret, listSecrets, MAX_LIVE_SECRETS, secretDeletable } from "../db/oauth";
import { outboxRow } from "../db/relay";
import { integrationSecrets, integrations } from "../db/schema";
import { findTenantWithIntegration } from "../db/tenants";
import { hashSecret, newClientId, newClientSecret } from "../tokens/client-credentials";
import { forTenant, type OperatorContext } from "./context";
import { AdminError, tenantNotFound } from "./errors";
import { publishClient } from "./oauth";
import { relayNow } from "./relay";
import { azureAdDisabled, type IssuingContext, issueToken } from "./tokens";

/** Client secrets last 1 to 3 years (Microsoft's gallery requirement), two unless the request says otherwise. */
export const MIN_SECRET_TTL_SECONDS = 365 * 86_400;
export const MAX_SECRET_TTL_SECONDS = 3 * 365 * 86_400;
export const DEFAULT_SECRET_TTL_SECONDS = 2 * 365 * 86_400;

/**
 * Client secrets expire after 1–3 years, and a directory whose secret expired cannot get a token: housekeeping gives
 * a month's notice and the integration's card warns, so the customer can add a secret and move to it.
 */
export const SECRET_EXPIRY_WARNING_MS = 30 * 86_400_000;

/** A secret just made: the only answer that ever carries its value. */
export interface IssuedSecret {
  clientSecret: string;
  clientSecretId: string;
  secretExpiresAt: number;
}

type ClientIntegration = Pick<IntegrationRow, "tenantId" | "id" | "provider">;

const ref = (integration: ClientIntegration) => ({ id: integration.id, provider: integration.provider });

/**
 * A new secret of `clientId`'s integration: its value (only here), the insert (bounded by MAX_LIVE_SECRETS in the
 * statement) and the outbox entry of its audit row and event, which lands only if the secret did.
 */
async function prepareSecret(
  ctx: IssuingContext,
  integration: ClientIntegration,
  clientId: string,
  ttlSeconds: number,
) {
  const clientSecret = await newClientSecret(ctx.signingKeys, clientId);
  const id = crypto.randomUUID();
  const expiresAt = ctx.now + ttlSeconds * 1000;
  const until = new Date(expiresAt).toISOString();
  const row = {
    id,
    tenantId: integration.tenantId,
    integrationId: integration.id,
    secretHash: await hashSecret(clientSecret),
    createdAt: ctx.now,
    expiresAt,
  };
  return {
    issued: { clientSecret, clientSecretId: id, secretExpiresAt: expiresAt } satisfies IssuedSecret,
    statements: {
      inserted: insertSecret(row),
      record: outboxRow(forTenant(ctx, integration.tenantId), {
        action: "client_secret.created",
        resourceType: "ClientSecret",
        resourceId: id,
        detail: { integrationId: integration.id, expiresAt: until },
        event: {
          type: "client_secret.created",
          data: { secretId: id, expiresAt: until, integration: ref(integration) },
        },
        from: sql`WHERE EXISTS (SELECT 1 FROM ${integrationSecrets} WHERE id = ${id})`,
      }),
    },
  };
}

/**
 * The integration of an OAuth client (`alongside`: the statements that create its row, with the client id this
 * returns) and its first secret, in one batch; then its KV record, and the relay. Throws when the tenant's switch
 * went off meanwhile (the row's insert is conditional on it, and the secret's on the row).
 */
export async function setUpClient(
  ctx: IssuingContext,
  integration: ClientIntegration,
  secretTtlSeconds: number,
  alongside: (clientId: string) => Statement[],
) {
  const clientId = await newClientId(ctx.signingKeys);
  const secret = await prepareSecret(ctx, integration, clientId, secretTtlSeconds);
  const { inserted } = await runNamedBatch(ctx.db, { alongside: alongside(clientId), ...secret.statements });
  if (rowsOf(inserted).length === 0) throw azureAdDisabled();
  await afterChange(ctx, integration.tenantId, clientId);
  return { clientId, ...secret.issued };
}

/**
 * The integration of a federated client (`alongside`: the statements that create its row, with the client id this
 * returns), in one batch; then its KV record, and the relay. Throws when the tenant's switch went off meanwhile.
 */
export async function setUpFederation(
  ctx: IssuingContext,
  integration: ClientIntegration,
  alongside: (clientId: string) => Statement[],
) {
  const clientId = await newClientId(ctx.signingKeys);
  const { made } = await runNamedBatch(ctx.db, {
    alongside: alongside(clientId),
    made: sql`SELECT id FROM ${integrations} WHERE client_id = ${clientId}`,
  });
  if (rowsOf(made).length === 0) throw azureAdDisabled();
  await afterChange(ctx, integration.tenantId, clientId);
  return clientId;
}

/** The integration, which must be an OAuth client-credentials one (its secrets are what the routes below manage). */
async function requireClient(ctx: OperatorContext, tenantId: string, integrationId: string) {
  const found = await findTenantWithIntegration(ctx.db, tenantId, integrationId);
  if (!found) throw tenantNotFound();
  const { integration } = found;
  if (!integration) throw new AdminError("integration_not_found", "This tenant has no integration with this id.");
  if (integration.authentication !== "oauth_client_credentials" || integration.clientId === null) {
    throw new AdminError("wrong_authentication", "This integration does not authenticate with client secrets.");
  }
  return { ...integration, clientId: integration.clientId };
}

/** The integration's client id and secrets (never their values), newest first, each with its expiry. */
export async function getSecrets(ctx: OperatorContext, tenantId: string, integrationId: string) {
  const integration = await requireClient(ctx, tenantId, integrationId);
  const secrets = await listSecrets(ctx.db, tenantId, integrationId);
  return { clientId: integration.clientId, secrets };
}

/**
 * Adds a secret, so the customer can rotate without a gap: the new one works at once beside the others, and the old
 * one is deleted once the directory uses the new. At most MAX_LIVE_SECRETS live (checked in the statement).
 */
export async function addSecret(ctx: IssuingContext, tenantId: string, integrationId: string, ttlSeconds: number) {
  const integration = await requireClient(ctx, tenantId, integrationId);
  const secret = await prepareSecret(ctx, integration, integration.clientId, ttlSeconds);
  const { inserted } = await runNamedBatch(ctx.db, secret.statements);
  if (rowsOf(inserted).length === 0) {
    throw new AdminError(
      "too_many_secrets",
      `An integration has at most ${MAX_LIVE_SECRETS} live secrets; delete one the directory no longer uses first.`,
    );
  }
  await afterChange(ctx, tenantId, integration.clientId);
  return secret.issued;
}

/**
 * Deletes a secret: the token endpoint refuses it from now on, and the access tokens issued on it stop within the
 * client record's propagation (services/oauth.ts). The last live secret is kept (the directory would be locked out).
 */
export async function removeSecret(ctx: OperatorContext, tenantId: string, integrationId: string, secretId: string) {
  const integration = await requireClient(ctx, tenantId, integrationId);
  const { removed } = await runNamedBatch(ctx.db, {
    // The record first, under the delete's own condition: it lands exactly when the delete does.
    record: outboxRow(forTenant(ctx, tenantId), {
      action: "client_secret.deleted",
      resourceType: "ClientSecret",
      resourceId: secretId,
      detail: { integrationId },
      event: { type: "client_secret.deleted", data: { secretId, integration: ref(integration) } },
      from: sql`WHERE ${secretDeletable(tenantId, integrationId, secretId, ctx.now)}`,
    }),
    removed: deleteSecret(tenantId, integrationId, secretId, ctx.now),
  });
  if (rowsOf(removed).length === 0) {
    const known = (await listSecrets(ctx.db, tenantId, integrationId)).some((s) => s.id === secretId);
    throw known
      ? new AdminError("last_secret", "This is the integration's last live secret; add another first.")
      : new AdminError("secret_not_found", "The integration has no secret with this id.");
  }
  await afterChange(ctx, tenantId, integration.clientId);
}

/** The longest a validation token lives: Microsoft's run needs it for at least a day; a week covers a rerun. */
export const MAX_VALIDATION_TOKEN_SECONDS = 7 * 86_400;

/**
 * A bearer token for Microsoft's gallery validation, which sends a static bearer token (for at least 24 hours) beside
 * its OAuth test: an OAuth integration's, for its own URL, marked `validation`, a week at most. It ends as any token
 * does (expiry, the integration's removal, the tenant's switch).
 */
export async function issueValidationToken(
  ctx: IssuingContext,
  tenantId: string,
  integrationId: string,
  ttlSeconds: number,
) {
  const found = await findTenantWithIntegration(ctx.db, tenantId, integrationId);
  if (!found) throw tenantNotFound();
  const { tenant, integration } = found;
  if (!integration) throw new AdminError("integration_not_found", "This tenant has no integration with this id.");
  if (integration.authentication === "bearer") {
    throw new AdminError("wrong_authentication", "A bearer-token integration's own token serves the validation.");
  }
  return issueToken(ctx, tenant, integration, ttlSeconds, [], "validation");
}

/** The client's KV record follows the change at once, and the tenant's feed gets its event. */
async function afterChange(ctx: OperatorContext, tenantId: string, clientId: string) {
  try {
    await publishClient(ctx, clientId);
  } finally {
    await relayNow(ctx, tenantId);
  }
}
