import * as v from "valibot";

/**
 * The event registry: every type the change feed carries, once, with what the rest of the service needs to know of
 * it. The feed's renderer reads `snapshot` (which resource the stored snapshot is), a move's catch-up reads `names`
 * (which rows an event says changed, to copy them again), and the OpenAPI document, the tests and docs/events.md
 * read `data`, the payload's schema. Payloads are written in SQL inside the batch of their change (db/events.ts), so
 * these schemas do not build them: every event the test suite reads is validated against them instead
 * (test/support/openapi.ts, through the feed page's union by `type`).
 */

/** A SCIM resource as GET renders it; its attributes are the resource schema's business (docs/scim.md). */
const ScimResource = (resourceType: "User" | "Group") =>
  v.looseObject({
    schemas: v.array(v.string()),
    id: v.string(),
    meta: v.looseObject({ resourceType: v.literal(resourceType), location: v.string() }),
  });
const ScimUser = ScimResource("User");
const ScimGroup = ScimResource("Group");

/** What a write changed: the top-level attributes that differ and their values before it (null: absent). */
const changes = { changedAttributes: v.array(v.string()), previous: v.record(v.string(), v.unknown()) };
const Instant = v.pipe(v.string(), v.isoTimestamp());
const UserChanged = v.strictObject({ user: ScimUser, ...changes });
const AccessChanged = v.strictObject({
  role: v.string(),
  users: v.pipe(v.array(v.string()), v.minLength(1), v.maxLength(1000)),
  integration: v.string(),
});
/** A user's custom attributes as its integration's mapping fills them (docs/access.md); null: it maps none now. */
const UserAttributes = v.strictObject({
  id: v.string(),
  attributes: v.nullable(v.record(v.string(), v.union([v.string(), v.number(), v.boolean(), v.null()]))),
  attributeErrors: v.array(
    v.strictObject({ key: v.string(), path: v.string(), reason: v.string(), found: v.string() }),
  ),
});
/** An integration's mapping (roles and attributes share its version) changed to `version`. */
const MappingChanged = v.strictObject({ integration: v.string(), version: v.number() });
const MembersChanged = v.strictObject({
  group: v.strictObject({ id: v.string(), displayName: v.string() }),
  members: v.array(v.string()),
});
/**
 * The integration an event is about, or whose token it is (`provider` as the provider registry names it). Optional:
 * the events a feed holds from before integrations were a model have none (they are the legacy integration's).
 */
const IntegrationRef = v.optional(v.strictObject({ id: v.string(), provider: v.string() }));
/**
 * A move between directories (db/takeover.ts): the integration that managed the resource (`from`) and the one that
 * took it over (`to`), by id. Admitted at the history quota: it takes nothing more, and a full tenant must still be
 * able to change directories.
 */
const Transferred = { from: v.string(), to: v.string() };
/**
 * `provider` as before integrations were a model (the legacy integration's is `azure-ad`, whatever its provider), and
 * the integration.
 */
const Integration = v.strictObject({ provider: v.string(), integration: IntegrationRef });
const TokenTimed = v.strictObject({ tokenId: v.string(), expiresAt: Instant, integration: IntegrationRef });

/**
 * The rows an event says changed, which a move copies again while it catches up: its user, its group (and, with
 * `members`, each membership it names), every user the integration managed (their `managed_by` changed with no
 * event of their own), or none (control-plane facts with no row in the directory).
 */
export type Names = "user" | "users" | "group" | "group_members" | "all_managed_users" | "none";

interface EventSpec {
  /** The stored snapshot (events.resource) is this resource, rendered as SCIM into `data.user` or `data.group`. */
  snapshot: "user" | "group" | null;
  names: Names;
  /**
   * Whether the write it records is refused once the tenant's history reaches its quota (the trigger
   * `events_history_insert`, migrations/0018, lists the refused types; test/history-quota.test.ts compares). Growth
   * is refused; what only removes access (a leaver must always be deprovisionable) and the control plane's events
   * (relayed after their change committed) are admitted.
   */
  atHistoryLimit: "refused" | "admitted";
  /** The payload as consumers read it (the snapshot rendered in). */
  data: v.GenericSchema;
}

const event = <const S extends EventSpec>(spec: S) => spec;

export const EVENTS = {
  "user.created": event({
    atHistoryLimit: "refused",
    snapshot: "user",
    names: "user",
    data: v.strictObject({ user: ScimUser }),
  }),
  "user.updated": event({ atHistoryLimit: "refused", snapshot: "user", names: "user", data: UserChanged }),
  "user.deactivated": event({ atHistoryLimit: "admitted", snapshot: "user", names: "user", data: UserChanged }),
  "user.reactivated": event({ atHistoryLimit: "refused", snapshot: "user", names: "user", data: UserChanged }),
  "user.deleted": event({
    atHistoryLimit: "admitted",
    snapshot: null,
    names: "user",
    data: v.strictObject({
      user: v.strictObject({ id: v.string(), userName: v.string(), externalId: v.nullable(v.string()) }),
    }),
  }),
  "user.adopted": event({ atHistoryLimit: "refused", snapshot: "user", names: "user", data: UserChanged }),
  "user.transferred": event({
    atHistoryLimit: "admitted",
    snapshot: "user",
    names: "user",
    data: v.strictObject({ user: ScimUser, ...Transferred }),
  }),
  "group.created": event({
    atHistoryLimit: "refused",
    snapshot: "group",
    names: "group",
    data: v.strictObject({ group: ScimGroup }),
  }),
  "group.updated": event({
    atHistoryLimit: "refused",
    snapshot: "group",
    names: "group",
    data: v.strictObject({ group: ScimGroup, ...changes }),
  }),
  "group.deleted": event({
    atHistoryLimit: "admitted",
    snapshot: "group",
    names: "group",
    data: v.strictObject({ group: ScimGroup }),
  }),
  "group.transferred": event({
    atHistoryLimit: "admitted",
    snapshot: "group",
    names: "group",
    data: v.strictObject({ group: ScimGroup, ...Transferred }),
  }),
  "group.members_added": event({
    atHistoryLimit: "refused",
    snapshot: null,
    names: "group_members",
    data: MembersChanged,
  }),
  "group.members_removed": event({
    atHistoryLimit: "admitted",
    snapshot: null,
    names: "group_members",
    data: MembersChanged,
  }),
  /**
   * What users may do in the product changed (docs/access.md): `users` gained or lost the vendor's role `role`,
   * through their groups, app roles or the default of `integration`'s mapping. At most 1,000 users an event.
   * Admitted at the history quota: they come with a change that is itself checked there (a membership), or with a
   * mapping's change, which must not stop half-applied; and a revocation must always get through.
   */
  "access.granted": event({ atHistoryLimit: "admitted", snapshot: null, names: "users", data: AccessChanged }),
  "access.revoked": event({ atHistoryLimit: "admitted", snapshot: null, names: "users", data: AccessChanged }),
  /**
   * An integration's role mapping changed, and every user's access follows it (the `access.*` events before this
   * one, chunk by chunk). Names every user: a change of what grants a role, with no role gained or lost, is in
   * `users.access` too, which a move's catch-up must copy again.
   */
  "role_mappings.updated": event({
    atHistoryLimit: "admitted",
    snapshot: null,
    names: "all_managed_users",
    data: MappingChanged,
  }),
  /**
   * Users' custom attributes changed (docs/access.md): each entry is a user's attributes as they are now, whole, so
   * the latest entry of a user is its state. With a write of the user, a change of its integration's attribute
   * mapping, or the user leaving the integration (null). At most 1,000 users and about 256 KiB of them an event.
   * Admitted at the history quota, as the access events are.
   */
  "access.attributes_changed": event({
    atHistoryLimit: "admitted",
    snapshot: null,
    names: "users",
    data: v.strictObject({
      integration: v.string(),
      users: v.pipe(v.array(UserAttributes), v.minLength(1), v.maxLength(1000)),
    }),
  }),
  /** An integration's attribute mapping changed, and every user's attributes follow it, as for roles. */
  "attribute_mappings.updated": event({
    atHistoryLimit: "admitted",
    snapshot: null,
    names: "all_managed_users",
    data: MappingChanged,
  }),
  "integration.created": event({ atHistoryLimit: "admitted", snapshot: null, names: "none", data: Integration }),
  "integration.deleted": event({
    atHistoryLimit: "admitted",
    snapshot: null,
    names: "all_managed_users",
    data: Integration,
  }),
  /**
   * A directory another took over from was removed: what the taker matched is its own; `unmatched` are the users
   * nobody matched (at most 100 listed), handed back to the product `kept` active or `deactivated`.
   */
  "integration.takeover_ended": event({
    atHistoryLimit: "admitted",
    snapshot: null,
    names: "none",
    data: v.strictObject({
      integration: v.strictObject({ id: v.string(), provider: v.string() }),
      from: v.strictObject({ id: v.string(), provider: v.string() }),
      unmatched: v.strictObject({
        count: v.number(),
        users: v.array(v.strictObject({ id: v.string(), userName: v.string() })),
      }),
      action: v.picklist(["kept", "deactivated"]),
    }),
  }),
  "client_secret.created": event({
    atHistoryLimit: "admitted",
    snapshot: null,
    names: "none",
    data: v.strictObject({ secretId: v.string(), expiresAt: Instant, integration: IntegrationRef }),
  }),
  "client_secret.deleted": event({
    atHistoryLimit: "admitted",
    snapshot: null,
    names: "none",
    data: v.strictObject({ secretId: v.string(), integration: IntegrationRef }),
  }),
  "client_secret.expiring_soon": event({
    atHistoryLimit: "admitted",
    snapshot: null,
    names: "none",
    data: v.strictObject({ secretId: v.string(), expiresAt: Instant, integration: IntegrationRef }),
  }),
  "token.issued": event({ atHistoryLimit: "admitted", snapshot: null, names: "none", data: TokenTimed }),
  "token.rotated": event({
    atHistoryLimit: "admitted",
    snapshot: null,
    names: "none",
    data: v.strictObject({
      tokenId: v.string(),
      expiresAt: Instant,
      previousTokenIds: v.array(v.string()),
      graceUntil: v.nullable(Instant),
      /** Those of previousTokenIds that stop now: all of them without grace; with grace, any beyond the one kept. */
      stoppedTokenIds: v.array(v.string()),
      integration: IntegrationRef,
    }),
  }),
  "token.revoked": event({
    atHistoryLimit: "admitted",
    snapshot: null,
    names: "none",
    data: v.strictObject({ tokenIds: v.array(v.string()), reason: v.string(), integration: IntegrationRef }),
  }),
  "token.expiring_soon": event({ atHistoryLimit: "admitted", snapshot: null, names: "none", data: TokenTimed }),
  "token.expired": event({ atHistoryLimit: "admitted", snapshot: null, names: "none", data: TokenTimed }),
  // Written by the trigger `tenant_quotas_signal` (migrations/0018) in the statement that took usage there.
  "quota.threshold_reached": event({
    atHistoryLimit: "admitted",
    snapshot: null,
    names: "none",
    data: v.strictObject({
      quota: v.picklist(["users", "groups", "bytes", "historyBytes"]),
      percent: v.picklist([80, 95]),
      used: v.number(),
      limit: v.number(),
    }),
  }),
} as const satisfies Record<string, EventSpec>;

export type EventType = keyof typeof EVENTS;

/** Every event type the feed carries, in the registry's order (docs/events.md lists them so). */
export const EVENT_TYPES = Object.keys(EVENTS) as EventType[];

export const isEventType = (type: string): type is EventType => Object.hasOwn(EVENTS, type);

/** An event as the pull API and webhooks deliver it: one schema per type, told apart by `type`. */
export const FeedEventSchema = v.variant(
  "type",
  EVENT_TYPES.map((type) =>
    v.strictObject({
      id: v.pipe(v.string(), v.startsWith("evt_")),
      type: v.literal(type),
      tenantId: v.string(),
      sequence: v.pipe(v.number(), v.integer(), v.minValue(1)),
      occurredAt: Instant,
      data: EVENTS[type].data,
    }),
  ),
);
