import { sql } from "drizzle-orm";
import { rowsOf, runBatch } from "../db/batch";
import {
  endSession,
  endTenantSessions,
  findLiveSession,
  findOpenLink,
  findOperatorSession,
  insertLink,
  insertOperatorSession,
  liveSessionsOf,
  redeemLinkStatements,
  whileLinkExists,
  whileRedeemedInto,
  whileSessionOpen,
} from "../db/portal";
import { outboxRow } from "../db/relay";
import { sha256Hex } from "../lib/digest";
import { logEvent } from "../lib/log";
import { isSignedSecret, type KeyPurpose, newSignedSecret } from "../tokens/signing";
import { forTenant, type OperatorContext } from "./context";
import { tenantNotFound } from "./errors";
import { commitAndRelay } from "./relay";
import type { IssuingContext } from "./tokens";

/** WorkOS's portal links last minutes too: long enough to open a mail, short enough that a leaked one is dead. */
export const DEFAULT_LINK_TTL_SECONDS = 300;
export const MIN_LINK_TTL_SECONDS = 5;
export const MAX_LINK_TTL_SECONDS = 86_400;
/** A portal session's lifetime when PORTAL_SESSION_HOURS names none (or an unusable value). */
export const DEFAULT_SESSION_HOURS = 4;

/** The customer's admin in the portal: what their changes are recorded as, in the audit log and in events. */
export const PORTAL_ACTOR = "portal";
/** The vendor's operator in the console. */
export const CONSOLE_ACTOR = "console";

/** A session's lifetime from PORTAL_SESSION_HOURS: whole hours from 1 to 24, else the default. */
export function sessionTtlMs(configured: string | undefined) {
  const hours = Number(configured);
  return (Number.isInteger(hours) && hours >= 1 && hours <= 24 ? hours : DEFAULT_SESSION_HOURS) * 3_600_000;
}

const SECRET_RANDOM_BYTES = 32;
/** What an operator's session is bound to where a customer's names its tenant (tenant ids are UUIDs). */
const CONSOLE_SCOPE = "console";

/**
 * A link's or a session's secret (256 random bits and their MAC under the purpose's key, bound to `scope`, base64url)
 * and the id it is stored under: its SHA-256, so what D1 holds cannot be turned back into a working link or cookie.
 */
async function newSecret(ctx: IssuingContext, purpose: KeyPurpose, scope?: string) {
  const secret = await newSignedSecret(ctx.signingKeys, purpose, SECRET_RANDOM_BYTES, scope);
  return { secret, id: await sha256Hex(secret) };
}

/**
 * Whether a presented secret is one this service made for `purpose` and `scope`: checked before any lookup, so a
 * forged link or cookie costs no D1 or KV access. Links and sessions made before they carried a MAC fail it too.
 */
const signedFor = (ctx: IssuingContext, purpose: KeyPurpose, secret: string, scope?: string) =>
  isSignedSecret(ctx.signingKeys, purpose, SECRET_RANDOM_BYTES, secret, scope);

/** The stored id of a presented secret (a link's or a session's). */
const idOf = (secret: string) => sha256Hex(secret);

/**
 * The vendor's backend mints a setup link for one tenant: single use, valid for `ttlSeconds`. The secret is only in
 * the return value; the audit log records that a link was made and until when, never the link.
 */
export async function createSetupLink(
  ctx: IssuingContext,
  tenantId: string,
  options: { ttlSeconds: number; returnUrl: string | null },
) {
  const { secret, id } = await newSecret(ctx, "setupLink");
  const expiresAt = ctx.now + options.ttlSeconds * 1000;
  const [inserted] = await commitAndRelay(ctx, tenantId, [
    insertLink({ id, tenantId, createdAt: ctx.now, expiresAt, returnUrl: options.returnUrl }),
    outboxRow(forTenant(ctx, tenantId), {
      action: "portal.link_created",
      detail: { expiresAt: new Date(expiresAt).toISOString(), returnUrl: options.returnUrl },
      from: whileLinkExists(id),
    }),
  ]);
  if (rowsOf(inserted).length === 0) throw tenantNotFound();
  return { secret, expiresAt };
}

/**
 * A link that can still be redeemed, with its expiry and the name of the tenant it opens (what the Continue step
 * names), or null. One read and no write: opening a link must not use it up or change anything, since mail scanners
 * open links too.
 */
export async function openSetupLink(ctx: IssuingContext, secret: string) {
  if (!(await signedFor(ctx, "setupLink", secret))) return null;
  const link = await findOpenLink(ctx.db, await idOf(secret), ctx.now);
  return link && { expiresAt: link.expiresAt, tenantName: link.tenantName };
}

/**
 * Redeems a link into a new session, once: a used, expired or unknown link (or one whose tenant is gone) gives null.
 * Two round trips: the link's tenant (for the audit row), then the conditional redemption that decides.
 */
export async function redeemSetupLink(ctx: IssuingContext, linkSecret: string, sessionTtl: number) {
  if (!(await signedFor(ctx, "setupLink", linkSecret))) return null;
  const linkId = await idOf(linkSecret);
  const link = await findOpenLink(ctx.db, linkId, ctx.now);
  if (!link) return null;
  const session = await newSecret(ctx, "session", link.tenantId);
  const expiresAt = ctx.now + sessionTtl;
  const [redeemed] = await commitAndRelay(ctx, link.tenantId, [
    ...redeemLinkStatements(linkId, { id: session.id, now: ctx.now, expiresAt }),
    outboxRow(forTenant(ctx, link.tenantId), {
      action: "portal.session_started",
      detail: { expiresAt: new Date(expiresAt).toISOString() },
      from: whileRedeemedInto(linkId, session.id),
    }),
  ]);
  if (rowsOf(redeemed).length === 0) return null;
  return { sessionSecret: session.secret, tenantId: link.tenantId };
}

export type PortalSession = NonNullable<Awaited<ReturnType<typeof findLiveSession>>>;

/**
 * The live session of `tenantId` a cookie names, or null (expired, ended, its tenant deleted, another tenant's, or
 * never issued). A session signed for the tenant still costs its one D1 read, never cached: that read is what sees
 * a sign-out, the operator ending the customer's sessions, or the tenant's deletion.
 */
export async function findPortalSession(ctx: IssuingContext, sessionSecret: string, tenantId: string) {
  if (!(await signedFor(ctx, "session", sessionSecret, tenantId))) return null;
  return findLiveSession(ctx.db, await idOf(sessionSecret), ctx.now);
}

/** Signing out: the session stops at once, whatever the cookie's own expiry. */
export async function endPortalSession(ctx: OperatorContext, sessionSecret: string, tenantId: string) {
  const sessionId = await idOf(sessionSecret);
  await commitAndRelay(ctx, tenantId, [
    outboxRow(forTenant(ctx, tenantId), { action: "portal.session_ended", from: whileSessionOpen(sessionId) }),
    endSession(sessionId, ctx.now),
  ]);
}

/**
 * An operator signed in to the console (the caller checked how: Cloudflare Access's assertion, or the admin key): a
 * tenant-less session of the same kind as a customer's, tied to a digest of that way in (`binding`: the Access
 * identity, or the key, so rotating the key ends its sessions). Logged (how, never who), not audited: the audit log
 * is per tenant.
 */
export async function startOperatorSession(
  ctx: IssuingContext,
  binding: string,
  sessionTtl: number,
  way: "access" | "key",
) {
  const session = await newSecret(ctx, "session", CONSOLE_SCOPE);
  const row = { id: session.id, binding, createdAt: ctx.now, expiresAt: ctx.now + sessionTtl };
  await runBatch(ctx.db, [insertOperatorSession(row)]);
  logEvent("info", "console_sign_in", { sessionId: session.id.slice(0, 12), way });
  return session.secret;
}

/**
 * An operator's session still open under the same binding, with the tenant a page names (null if none). As a
 * customer's, one D1 read once its MAC holds, none before.
 */
export async function findConsoleSession(
  ctx: IssuingContext,
  sessionSecret: string,
  binding: string,
  tenantId?: string,
) {
  if (!(await signedFor(ctx, "session", sessionSecret, CONSOLE_SCOPE))) return { live: false, tenant: null };
  return findOperatorSession(ctx.db, await idOf(sessionSecret), binding, ctx.now, tenantId);
}

export async function endOperatorSession(ctx: OperatorContext, sessionSecret: string) {
  await runBatch(ctx.db, [endSession(await idOf(sessionSecret), ctx.now)]);
}

/** The operator ends every live portal session of a tenant, recorded with how many, in one batch; returns how many. */
export async function endCustomerSessions(ctx: OperatorContext, tenantId: string) {
  const live = liveSessionsOf(tenantId, ctx.now);
  const [, ended] = await commitAndRelay(ctx, tenantId, [
    outboxRow(forTenant(ctx, tenantId), {
      action: "portal.sessions_ended",
      detail: sql`json_object('count', (SELECT count(*) ${live}))`,
      from: sql`WHERE EXISTS (SELECT 1 ${live})`,
    }),
    endTenantSessions(tenantId, ctx.now),
  ]);
  return rowsOf(ended).length;
}
