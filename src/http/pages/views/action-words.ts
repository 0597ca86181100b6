/**
 * What each recorded change is, in a sentence for the customer's pages (Activity, a user's or group's history); the
 * code stays beside it as a detail. One table for every audit action and event type the service writes:
 * test/node/action-words.test.ts finds each one the code names and fails when one has no sentence here.
 */
export const ACTION_WORDS: Record<string, string> = {
  "user.created": "User created",
  "user.replaced": "User replaced by the directory",
  "user.updated": "User updated",
  "user.adopted": "Existing user taken over by the directory",
  "user.deactivated": "User deactivated",
  "user.reactivated": "User reactivated",
  "user.deleted": "User deleted",
  "user.transferred": "User moved to another directory",
  "group.created": "Group created",
  "group.replaced": "Group replaced by the directory",
  "group.updated": "Group updated",
  "group.deleted": "Group deleted",
  "group.members_added": "Members added to a group",
  "group.members_removed": "Members removed from a group",
  "group.transferred": "Group moved to another directory",
  "token.created": "Access token created",
  "token.issued": "Access token created",
  "token.regenerated": "Access token regenerated",
  "token.rotated": "Access token regenerated",
  "token.revoked": "Access token stopped",
  "token.expired": "Access token expired",
  "token.expiring_soon": "Access token expires soon",
  "client_secret.created": "Client secret added",
  "client_secret.deleted": "Client secret deleted",
  "client_secret.expiring_soon": "Client secret expires soon",
  "integration.created": "Integration added",
  "integration.updated": "Integration changed",
  "integration.deleted": "Integration disabled",
  "integration.takeover_ended": "Move to the new directory finished",
  "tenant.created": "Account created",
  "tenant.updated": "Account settings changed",
  "role_mappings.updated": "Role mapping changed",
  "access.granted": "Role given",
  "access.revoked": "Role taken away",
  "attribute_mappings.updated": "Field mapping changed",
  "access.attributes_changed": "Fields from the directory changed",
  "portal.link_created": "Setup link created",
  "portal.session_started": "Signed in to this page",
  "portal.session_ended": "Signed out",
  "portal.sessions_ended": "All sessions ended by support",
  "quota.threshold_reached": "Usage limit nearly reached",
  "webhook.events_skipped": "Webhook events coalesced",
};

/** The sentence for a recorded action; one the table does not know (from a later version) shows its code. */
export const actionWords = (action: string) => ACTION_WORDS[action] ?? action;
