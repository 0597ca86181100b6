import { type Context, Hono } from "hono";
import * as v from "valibot";
import type { AppEnv } from "../../env";
import { allowedOrigins, scimBaseUrl, tokenUrl } from "../../lib/urls";
import { federationOf } from "../../oauth/federation";
import { AUTHENTICATION_METHODS, INTEGRATION_ID, LEGACY_INTEGRATION_ID, PROVIDER_IDS } from "../../scim/providers";
import { AdminError } from "../../services/errors";
import {
  addClientIntegration,
  addFederatedIntegration,
  addIntegration,
  createIntegration,
  getIntegration,
  type IntegrationView,
  listIntegrations,
  regenerateToken,
  removeIntegration,
  updateIntegration,
} from "../../services/integration";
import {
  addSecret,
  DEFAULT_SECRET_TTL_SECONDS,
  getSecrets,
  issueValidationToken,
  MAX_SECRET_TTL_SECONDS,
  MAX_VALIDATION_TOKEN_SECONDS,
  MIN_SECRET_TTL_SECONDS,
  removeSecret,
} from "../../services/oauth-clients";
import { MAX_PREVIEW_ENTRIES, previewTakeover } from "../../services/takeover";
import {
  defaultTokenTtl,
  type IssuedToken,
  MAX_GRACE_SECONDS,
  MAX_TOKEN_TTL_SECONDS,
  MIN_TOKEN_TTL_SECONDS,
} from "../../services/tokens";
import { spendSecretBudget } from "../secret-budget";
import { operatorContext, tenantParam } from "./context";
import { documented, Instant, MaybeInstant } from "./openapi";
import { jsonBody, queryOf } from "./validate";
import { iso } from "./wire";

const TtlSeconds = v.optional(
  v.pipe(v.number(), v.integer(), v.minValue(MIN_TOKEN_TTL_SECONDS), v.maxValue(MAX_TOKEN_TTL_SECONDS)),
);
const GraceSeconds = v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_GRACE_SECONDS)), 0);
const CreateLegacyIntegration = v.object({ ttlSeconds: TtlSeconds });
const RegenerateToken = v.object({ ttlSeconds: TtlSeconds, graceSeconds: GraceSeconds });
const Provider = v.picklist(PROVIDER_IDS);
const Name = v.pipe(v.string(), v.trim(), v.minLength(1, "must not be empty"), v.maxLength(200));
/** Another integration of the tenant whose users and groups this one takes over as its sync matches them. */
const TakesOverFrom = v.pipe(
  v.string(),
  v.regex(INTEGRATION_ID, "must be an integration id"),
  v.description("An integration of the tenant whose users and groups this one takes over as its sync matches them"),
);
const SecretTtlSeconds = v.optional(
  v.pipe(v.number(), v.integer(), v.minValue(MIN_SECRET_TTL_SECONDS), v.maxValue(MAX_SECRET_TTL_SECONDS)),
);
const CreateIntegration = v.strictObject({
  provider: Provider,
  name: v.optional(Name),
  /** How its directory authenticates; bearer unless named. */
  authentication: v.optional(v.picklist(AUTHENTICATION_METHODS), "bearer"),
  /** Workload identity federation: what Entra's provisioning page shows (oauth/federation.ts normalises it). */
  federation: v.optional(
    v.strictObject({
      issuer: v.pipe(v.string(), v.maxLength(2048)),
      jwksUrl: v.optional(v.pipe(v.string(), v.maxLength(2048))),
      subject: v.pipe(v.string(), v.maxLength(1024)),
      audience: v.pipe(v.string(), v.maxLength(1024)),
    }),
  ),
  /** A bearer token's lifetime. */
  ttlSeconds: TtlSeconds,
  /** A client secret's lifetime (1–3 years, default 2). */
  secretTtlSeconds: SecretTtlSeconds,
  takesOverFrom: v.optional(TakesOverFrom),
});
const AddSecret = v.strictObject({ ttlSeconds: SecretTtlSeconds });
const ValidationToken = v.strictObject({
  ttlSeconds: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(MIN_TOKEN_TTL_SECONDS), v.maxValue(MAX_VALIDATION_TOKEN_SECONDS)),
  ),
});
const UpdateIntegration = v.strictObject({
  name: v.optional(Name),
  /** Refuses the integration's SCIM writes (503, Retry-After) while true; its credentials keep working for reads. */
  paused: v.optional(v.boolean()),
  provider: v.optional(v.pipe(Provider, v.description("Only the legacy integration (azure-ad) can be relabelled"))),
  /** null ends the takeover: what was not matched stays with the integration that manages it. */
  takesOverFrom: v.optional(v.nullable(TakesOverFrom)),
});

const Text = v.pipe(v.string(), v.minLength(1), v.maxLength(1024));
/** The users and groups the new directory will send, by what it matches them with (docs/api.md). */
const TakeoverPreviewBody = v.strictObject({
  users: v.optional(
    v.pipe(
      v.array(v.strictObject({ userName: v.optional(Text), externalId: v.optional(Text), email: v.optional(Text) })),
      v.maxLength(MAX_PREVIEW_ENTRIES),
    ),
    [],
  ),
  groups: v.optional(
    v.pipe(
      v.array(v.strictObject({ displayName: v.optional(Text), externalId: v.optional(Text) })),
      v.maxLength(MAX_PREVIEW_ENTRIES),
    ),
    [],
  ),
});
const Ref = v.strictObject({ id: v.string(), provider: Provider });
const PreviewOutcome = (by: string[]) =>
  v.strictObject({
    matches: v.array(v.strictObject({ index: v.number(), id: v.string(), name: v.string(), by: v.picklist(by) })),
    conflicts: v.array(
      v.strictObject({
        index: v.number(),
        reason: v.picklist(["ambiguousEmail", "userNameHeld", "matchesTwo", "matchedTwice", "displayNameTaken"]),
        ids: v.array(v.string()),
      }),
    ),
    unaffected: v.array(v.number()),
    unmatched: v.strictObject({
      count: v.number(),
      sample: v.array(v.strictObject({ id: v.string(), name: v.string() })),
    }),
  });
const TakeoverPreviewWire = v.strictObject({
  integration: Ref,
  from: Ref,
  users: PreviewOutcome(["externalId", "userName", "email"]),
  groups: PreviewOutcome(["externalId", "displayName"]),
});

/**
 * Removing a directory another takes over from: what becomes of the users nobody matched (required while there are
 * any, 409 `takeover_unmatched` without it).
 */
const RemoveQuery = v.strictObject({
  unmatched: v.optional(
    v.pipe(
      v.picklist(["keep", "deactivate"]),
      v.description("The users a takeover left unmatched: handed back to the product active, or deactivated"),
    ),
  ),
});

/** A token just issued: the only response that ever carries a token's plaintext. */
const IssuedWire = v.strictObject({
  scimBaseUrl: v.string(),
  token: v.string(),
  tokenId: v.string(),
  expiresAt: Instant,
});
/** A token just issued by a rotation, with the earlier tokens that stopped at once (docs/tokens.md). */
const RotatedWire = v.strictObject({ ...IssuedWire.entries, stoppedTokenIds: v.array(v.string()) });
const IntegrationWire = v.strictObject({
  scimBaseUrl: v.string(),
  azureAdEnabled: v.boolean(),
  createdAt: Instant,
  tokenId: v.nullable(v.string()),
  expiresAt: MaybeInstant,
  lastUsedAt: MaybeInstant,
  expiringSoon: v.boolean(),
  previousTokens: v.array(v.strictObject({ tokenId: v.string(), worksUntil: MaybeInstant })),
});
/** What an integration is, as every answer about one says it. */
const IntegrationEntries = {
  id: v.string(),
  provider: Provider,
  name: v.string(),
  authentication: v.picklist(AUTHENTICATION_METHODS),
  scimBaseUrl: v.string(),
  takesOverFrom: v.nullable(v.string()),
};
/** A new integration with its first token (shown once), or for an OAuth client its client id and first secret. */
const SecretWire = v.strictObject({ clientSecret: v.string(), clientSecretId: v.string(), secretExpiresAt: Instant });
const FederationWire = v.strictObject({
  issuer: v.string(),
  tenantId: v.string(),
  subject: v.string(),
  audience: v.string(),
  jwksUrl: v.string(),
});
const CreatedWire = v.variant("authentication", [
  v.strictObject({ ...IntegrationEntries, authentication: v.literal("bearer"), ...IssuedWire.entries }),
  v.strictObject({
    ...IntegrationEntries,
    authentication: v.literal("oauth_client_credentials"),
    tokenUrl: v.string(),
    clientId: v.string(),
    ...SecretWire.entries,
  }),
  v.strictObject({
    ...IntegrationEntries,
    authentication: v.literal("workload_identity"),
    tokenUrl: v.string(),
    clientId: v.string(),
    /** As normalised: what the assertions must say (the audience without `/.default`, the v2.0 issuer). */
    federation: FederationWire,
  }),
]);
/** An OAuth integration's secrets, never their values. */
const SecretsWire = v.strictObject({
  clientId: v.string(),
  tokenUrl: v.string(),
  items: v.array(v.strictObject({ id: v.string(), createdAt: Instant, expiresAt: Instant, expired: v.boolean() })),
});
/** An integration with its tokens: the current one, and earlier ones still working in a rotation's grace period. */
const IntegrationItemWire = v.strictObject({
  ...IntegrationEntries,
  paused: v.boolean(),
  pausedAt: MaybeInstant,
  createdAt: Instant,
  updatedAt: Instant,
  tokenId: v.nullable(v.string()),
  expiresAt: MaybeInstant,
  lastUsedAt: MaybeInstant,
  expiringSoon: v.boolean(),
  previousTokens: IntegrationWire.entries.previousTokens,
});
const tags = ["integration"];

const integrationParam = (c: Context<AppEnv>) => c.req.param("integrationId") as string;

/** A rotation of the integration's token, answered alike on the legacy route and an integration's own. */
async function rotated(c: Context<AppEnv>, body: v.InferOutput<typeof RegenerateToken>, integrationId: string) {
  const ttl = body.ttlSeconds ?? defaultTokenTtl(c.env.TOKEN_DEFAULT_TTL_SECONDS);
  const issued = await regenerateToken(operatorContext(c), tenantParam(c), ttl, body.graceSeconds, { integrationId });
  return c.json(
    {
      ...issuedWire(c.req.url, tenantParam(c), integrationId, issued),
      stoppedTokenIds: issued.stoppedTokenIds,
    } satisfies v.InferOutput<typeof RotatedWire>,
    201,
  );
}

/**
 * `POST/GET/DELETE /admin/tenants/:tenantId/integrations/azure-ad` and `POST …/token`: the legacy integration's
 * routes, answering as before integrations were a model (mounted before the routes of every integration, which
 * serve what these do not: its PATCH).
 */
export const legacyIntegrationRoutes = new Hono<AppEnv>()
  .post(
    "/",
    documented({
      summary: "Set up the Azure AD integration and issue its first token",
      tags,
      responses: { 201: IssuedWire },
      errors: [404, 409],
    }),
    jsonBody(CreateLegacyIntegration),
    async (c) => {
      const ttl = c.req.valid("json").ttlSeconds ?? defaultTokenTtl(c.env.TOKEN_DEFAULT_TTL_SECONDS);
      const issued = await createIntegration(operatorContext(c), tenantParam(c), ttl);
      return c.json(issuedWire(c.req.url, tenantParam(c), LEGACY_INTEGRATION_ID, issued), 201);
    },
  )
  .get(
    "/",
    documented({ summary: "The integration and its tokens", tags, responses: { 200: IntegrationWire }, errors: [404] }),
    async (c) => {
      const tenantId = tenantParam(c);
      const status = await getIntegration(operatorContext(c), tenantId);
      return c.json({
        scimBaseUrl: scimBaseUrl(c.req.url, tenantId),
        azureAdEnabled: status.azureAdEnabled,
        createdAt: iso(status.createdAt),
        ...tokenStandingWire(status),
      } satisfies v.InferOutput<typeof IntegrationWire>);
    },
  )
  .post(
    "/token",
    documented({
      summary: "Regenerate the token; the old one stops now or after graceSeconds (two tokens work at most)",
      tags,
      responses: { 201: RotatedWire },
      errors: [404, 409],
    }),
    jsonBody(RegenerateToken),
    async (c) => rotated(c, c.req.valid("json"), LEGACY_INTEGRATION_ID),
  )
  .delete(
    "/",
    documented({
      summary: "Remove the integration: tokens revoked, Entra's users handed back",
      tags,
      responses: { 204: null },
      errors: [404, 409],
    }),
    queryOf(RemoveQuery),
    async (c) => {
      await removeIntegration(
        operatorContext(c),
        tenantParam(c),
        LEGACY_INTEGRATION_ID,
        c.req.valid("query").unmatched,
      );
      return c.body(null, 204);
    },
  );

function issuedWire(
  requestUrl: string,
  tenantId: string,
  integrationId: string,
  issued: IssuedToken,
): v.InferOutput<typeof IssuedWire> {
  return {
    scimBaseUrl: scimBaseUrl(requestUrl, tenantId, integrationId),
    token: issued.token,
    tokenId: issued.tokenId,
    expiresAt: iso(issued.expiresAt),
  };
}

function integrationWire(
  requestUrl: string,
  tenantId: string,
  view: IntegrationView,
): v.InferOutput<typeof IntegrationItemWire> {
  const { integration } = view;
  return {
    id: integration.id,
    provider: integration.provider,
    name: integration.name,
    authentication: integration.authentication,
    scimBaseUrl: scimBaseUrl(requestUrl, tenantId, integration.id),
    takesOverFrom: integration.takesOverFrom,
    paused: integration.pausedAt !== null,
    pausedAt: iso(integration.pausedAt),
    createdAt: iso(integration.createdAt),
    updatedAt: iso(integration.updatedAt),
    ...tokenStandingWire(view),
  };
}

/** An integration's current token and those in grace, as the legacy answer and an integration's both show them. */
function tokenStandingWire(standing: {
  current: { id: string; expiresAt: number; lastUsedAt: number | null } | null;
  inGrace: { id: string; revokedAt: number | null }[];
  expiringSoon: boolean;
}) {
  const { current } = standing;
  return {
    tokenId: current?.id ?? null,
    expiresAt: iso(current?.expiresAt ?? null),
    lastUsedAt: iso(current?.lastUsedAt ?? null),
    expiringSoon: standing.expiringSoon,
    previousTokens: standing.inGrace.map((t) => ({ tokenId: t.id, worksUntil: iso(t.revokedAt) })),
  };
}

/** `/admin/tenants/:tenantId/integrations`: every integration of the tenant, each with its own URL and tokens. */
export const integrationRoutes = new Hono<AppEnv>()
  .post(
    "/",
    documented({
      summary: "Add an integration (a directory connection) and issue its first token",
      tags,
      responses: { 201: CreatedWire },
      errors: [404, 409],
    }),
    jsonBody(CreateIntegration),
    async (c) => {
      const { ttlSeconds, secretTtlSeconds, authentication, federation, ...input } = c.req.valid("json");
      const tenantId = tenantParam(c);
      type Named = { id: string; provider: v.InferOutput<typeof Provider>; name: string; takesOverFrom: string | null };
      const named = (integration: Named) => ({
        id: integration.id,
        provider: integration.provider,
        name: integration.name,
        scimBaseUrl: scimBaseUrl(c.req.url, tenantId, integration.id),
        takesOverFrom: integration.takesOverFrom,
      });
      if (federation !== undefined && authentication !== "workload_identity") {
        throw new AdminError("invalid_request", "federation: only with authentication workload_identity.");
      }
      if (authentication === "workload_identity") {
        if (!federation) throw new AdminError("invalid_request", "federation: required with workload_identity.");
        if (input.provider !== "entra") {
          throw new AdminError("invalid_request", "authentication: workload_identity is Entra's (provider entra).");
        }
        const trusted = federationOf(federation, allowedOrigins(c.env.WIF_ALLOWED_JWKS_ORIGINS));
        if (!trusted.ok) throw new AdminError("invalid_request", trusted.error);
        const made = await addFederatedIntegration(operatorContext(c), tenantId, input, trusted.federation);
        return c.json(
          {
            ...named(made.integration),
            authentication,
            tokenUrl: tokenUrl(c.req.url),
            clientId: made.clientId,
            federation: made.federation,
          } satisfies v.InferOutput<typeof CreatedWire>,
          201,
        );
      }
      if (authentication === "oauth_client_credentials") {
        const secretTtl = secretTtlSeconds ?? DEFAULT_SECRET_TTL_SECONDS;
        const { integration, secretExpiresAt, ...client } = await addClientIntegration(
          operatorContext(c),
          tenantId,
          input,
          secretTtl,
        );
        return c.json(
          {
            ...named(integration),
            authentication,
            tokenUrl: tokenUrl(c.req.url),
            ...client,
            secretExpiresAt: iso(secretExpiresAt),
          } satisfies v.InferOutput<typeof CreatedWire>,
          201,
        );
      }
      const ttl = ttlSeconds ?? defaultTokenTtl(c.env.TOKEN_DEFAULT_TTL_SECONDS);
      const { integration, ...issued } = await addIntegration(operatorContext(c), tenantId, input, ttl);
      return c.json(
        {
          ...named(integration),
          authentication,
          ...issuedWire(c.req.url, tenantId, integration.id, issued),
        } satisfies v.InferOutput<typeof CreatedWire>,
        201,
      );
    },
  )
  .get(
    "/",
    documented({
      summary: "The tenant's integrations and their tokens",
      tags,
      responses: { 200: v.strictObject({ items: v.array(IntegrationItemWire) }) },
      errors: [404],
    }),
    async (c) => {
      const tenantId = tenantParam(c);
      const views = await listIntegrations(operatorContext(c), tenantId);
      return c.json({ items: views.map((view) => integrationWire(c.req.url, tenantId, view)) });
    },
  )
  .get(
    "/:integrationId",
    documented({
      summary: "An integration and its tokens",
      tags,
      responses: { 200: IntegrationItemWire },
      errors: [404],
    }),
    async (c) => {
      const tenantId = tenantParam(c);
      const view = await getIntegration(operatorContext(c), tenantId, integrationParam(c));
      return c.json(integrationWire(c.req.url, tenantId, view));
    },
  )
  .patch(
    "/:integrationId",
    documented({
      summary: "Rename, pause or resume an integration (or relabel the legacy one's provider)",
      tags,
      responses: { 200: IntegrationItemWire },
      errors: [404, 409],
    }),
    jsonBody(UpdateIntegration),
    async (c) => {
      const tenantId = tenantParam(c);
      const view = await updateIntegration(operatorContext(c), tenantId, integrationParam(c), c.req.valid("json"));
      return c.json(integrationWire(c.req.url, tenantId, view));
    },
  )
  .post(
    "/:integrationId/takeover/preview",
    documented({
      summary:
        "Dry run of a takeover: what the new directory's users and groups would take over, conflict with, or leave",
      tags,
      responses: { 200: TakeoverPreviewWire },
      errors: [404],
    }),
    jsonBody(TakeoverPreviewBody),
    async (c) => {
      const preview = await previewTakeover(
        operatorContext(c),
        tenantParam(c),
        integrationParam(c),
        c.req.valid("json"),
      );
      return c.json(preview satisfies v.InferOutput<typeof TakeoverPreviewWire>);
    },
  )
  .get(
    "/:integrationId/secrets",
    documented({
      summary: "An OAuth client-credentials integration's client id and secrets (never their values)",
      tags,
      responses: { 200: SecretsWire },
      errors: [404, 409],
    }),
    async (c) => {
      const { clientId, secrets } = await getSecrets(operatorContext(c), tenantParam(c), integrationParam(c));
      const now = c.var.now;
      return c.json({
        clientId,
        tokenUrl: tokenUrl(c.req.url),
        items: secrets.map((s) => ({
          id: s.id,
          createdAt: iso(s.createdAt),
          expiresAt: iso(s.expiresAt),
          expired: s.expiresAt <= now,
        })),
      } satisfies v.InferOutput<typeof SecretsWire>);
    },
  )
  .post(
    "/:integrationId/secrets",
    documented({
      summary: "Add a client secret (shown once): rotate without a gap, at most 3 live",
      tags,
      responses: { 201: SecretWire },
      errors: [404, 409, 429],
    }),
    jsonBody(AddSecret),
    async (c) => {
      const ttl = c.req.valid("json").ttlSeconds ?? DEFAULT_SECRET_TTL_SECONDS;
      await spendSecretBudget(c, tenantParam(c), integrationParam(c));
      const issued = await addSecret(operatorContext(c), tenantParam(c), integrationParam(c), ttl);
      return c.json(
        { ...issued, secretExpiresAt: iso(issued.secretExpiresAt) } satisfies v.InferOutput<typeof SecretWire>,
        201,
      );
    },
  )
  .delete(
    "/:integrationId/secrets/:secretId",
    documented({
      summary: "Delete a client secret: it and the access tokens issued on it stop (not the last live one)",
      tags,
      responses: { 204: null },
      errors: [404, 409],
    }),
    async (c) => {
      await removeSecret(operatorContext(c), tenantParam(c), integrationParam(c), c.req.param("secretId"));
      return c.body(null, 204);
    },
  )
  .post(
    "/:integrationId/validation-token",
    documented({
      summary:
        "A bearer token for Microsoft's gallery validation run, for an OAuth integration's own URL (a week at most)",
      tags,
      responses: { 201: v.strictObject({ ...IssuedWire.entries, purpose: v.literal("validation") }) },
      errors: [404, 409],
    }),
    jsonBody(ValidationToken),
    async (c) => {
      const ttl = c.req.valid("json").ttlSeconds ?? MAX_VALIDATION_TOKEN_SECONDS;
      const tenantId = tenantParam(c);
      const integrationId = integrationParam(c);
      const issued = await issueValidationToken(operatorContext(c), tenantId, integrationId, ttl);
      return c.json({ ...issuedWire(c.req.url, tenantId, integrationId, issued), purpose: "validation" as const }, 201);
    },
  )
  .post(
    "/:integrationId/token",
    documented({
      summary: "Regenerate an integration's token; the old one stops now or after graceSeconds (two work at most)",
      tags,
      responses: { 201: RotatedWire },
      errors: [404, 409],
    }),
    jsonBody(RegenerateToken),
    async (c) => rotated(c, c.req.valid("json"), integrationParam(c)),
  )
  .delete(
    "/:integrationId",
    documented({
      summary: "Remove an integration: its tokens revoked, the users it manages handed back",
      tags,
      responses: { 204: null },
      errors: [404, 409],
    }),
    queryOf(RemoveQuery),
    async (c) => {
      await removeIntegration(operatorContext(c), tenantParam(c), integrationParam(c), c.req.valid("query").unmatched);
      return c.body(null, 204);
    },
  );
