import type { IntegrationStatus, RegenerationPreview } from "../../../services/integration";
import type { Quota } from "../../../services/quotas";
import { OperatorPanel } from "../../console/views/operator-panel";
import type { AreaPaths } from "../paths";
import { ActionForm, Choice, CopyField, FormActions, Page, type SessionFrame, When } from "./layout";

interface FramedProps {
  nonce: string;
  frame: SessionFrame;
}

/** The grace periods the portal offers when regenerating; none (the compromise case) is the default. */
export const GRACE_CHOICES = [
  { value: "0", label: "Stop the old token now", hint: "Choose this if the token may have been exposed." },
  { value: "3600", label: "Keep the old token working for 1 hour", hint: "Time to paste the new one into Entra." },
  { value: "86400", label: "Keep the old token working for 1 day", hint: "" },
  { value: "604800", label: "Keep the old token working for 7 days", hint: "For a planned change window." },
] as const;

/** What the page confirms after a change that redirected to it (`?done=…`). */
export const NOTICES = {
  disabled: [
    "Integration disabled.",
    "The access token no longer works, and users it provisioned are managed in the product again.",
  ],
  "sessions-ended": ["The customer's sessions were ended.", "Their next visit needs a new setup link."],
  "option-on": ["The Azure AD option is on.", "The customer can add the integration, or regenerate its token."],
  "option-off": ["The Azure AD option is off.", "Every token of this tenant stopped working."],
  "move-started": [
    "The move has started.",
    "Entra keeps provisioning while the data is copied; the switch itself takes seconds. Reload to follow it.",
  ],
  "move-rolling-back": ["The move is being rolled back.", "The tenant stays where it was; the copy is removed."],
} as const;

export type Notice = keyof typeof NOTICES;

const EntraLogo = () => (
  <span class="logo" aria-hidden="true">
    A
  </span>
);

/** Integrations: the Azure AD integration's status and what can be done with it, or the way to add it. */
export function IntegrationsPage({
  nonce,
  frame,
  status,
  scimBaseUrl,
  notice,
}: FramedProps & { status: IntegrationStatus; scimBaseUrl: string; notice: Notice | null }) {
  const enabled = status.integration !== null && status.tenant.azureAdEnabled;
  const suspended = status.integration !== null && !status.tenant.azureAdEnabled;
  return (
    <Page title="Integrations" nonce={nonce} frame={frame} tab="integrations">
      <h1>Integrations</h1>
      {notice && (
        <div class="notice ok" role="status">
          <strong>{NOTICES[notice][0]}</strong>
          {NOTICES[notice][1]}
        </div>
      )}
      {status.quotaNotices.map((notice) => (
        <QuotaNotice {...notice} />
      ))}
      <section class="card" aria-labelledby="azure-ad">
        <div class="card-head">
          <EntraLogo />
          <h2 id="azure-ad">Microsoft Azure Active Directory</h2>
          <span class={`badge ${enabled ? "on" : "off"}`}>
            {enabled ? "Enabled" : suspended ? "Turned off" : "Not set up"}
          </span>
        </div>
        {enabled ? (
          <EnabledIntegration status={status} scimBaseUrl={scimBaseUrl} paths={frame.paths} />
        ) : suspended ? (
          <>
            <p>
              Provisioning from your directory has been turned off for your account, and its access tokens no longer
              work. Ask your account manager to turn it back on; then regenerate the token here.
            </p>
            <div class="actions">
              <a class="button danger" href={frame.paths.disable}>
                Disable integration
              </a>
            </div>
          </>
        ) : !status.tenant.azureAdEnabled ? (
          <p>
            Provisioning from Microsoft Entra ID is not available for your account yet. Ask your account manager to turn
            it on.
          </p>
        ) : (
          <>
            <p>
              Provision users and groups automatically from Microsoft Entra ID (Azure AD) or Okta: new people get
              accounts, changes flow in, and people who leave are deactivated.
            </p>
            <div class="actions">
              <a class="button" href={frame.paths.add}>
                Add integration
              </a>
              <a class="button secondary" href={frame.paths.guide()}>
                Read the setup guide
              </a>
            </div>
          </>
        )}
      </section>
      {status.operator && (
        <OperatorPanel
          frame={frame}
          azureAdEnabled={status.tenant.azureAdEnabled}
          liveSessions={status.operator.liveSessions}
          placement={{ database: status.tenant.database, ...status.operator }}
        />
      )}
    </Page>
  );
}

/** What each quota limits, in the customer's words, and how its usage reads. */
const QUOTA_WORDS: Record<Quota, { what: string; refused: string; amount: (n: number) => string }> = {
  users: { what: "users", refused: "new users are not created", amount: (n) => n.toLocaleString("en-US") },
  groups: { what: "groups", refused: "new groups are not created", amount: (n) => n.toLocaleString("en-US") },
  bytes: {
    what: "directory storage",
    refused: "new users, groups and larger profiles are not saved",
    amount: (n) => `${(n / 1_048_576).toLocaleString("en-US", { maximumFractionDigits: 1 })} MB`,
  },
  historyBytes: {
    what: "change history",
    refused: "changes that add people or access are not saved",
    amount: (n) => `${(n / 1_048_576).toLocaleString("en-US", { maximumFractionDigits: 1 })} MB`,
  },
};

/** A quota at 80 % of its limit or more: said before any write is refused, with what still goes through then. */
function QuotaNotice({ quota, percent, used, limit }: IntegrationStatus["quotaNotices"][number]) {
  const words = QUOTA_WORDS[quota];
  return (
    <div class={`notice ${percent >= 95 ? "danger" : "warn"}`} role="status">
      <strong>
        Your account has used {Math.floor((used * 100) / limit)} % of its {words.what} limit.
      </strong>
      {words.amount(used)} of {words.amount(limit)}. At the limit, {words.refused}; people who leave are still
      deactivated and removed. Ask your account manager to raise the limit.
    </div>
  );
}

function EnabledIntegration({
  status,
  scimBaseUrl,
  paths,
}: {
  status: IntegrationStatus;
  scimBaseUrl: string;
  paths: AreaPaths;
}) {
  const { current, inGrace, users } = status;
  return (
    <>
      {current && status.expiringSoon && (
        <div class="notice warn" role="status">
          <strong>The access token expires soon.</strong>
          It stops working on <When at={current.expiresAt} />. Regenerate it and paste the new one into Entra before
          then, or provisioning stops.
        </div>
      )}
      {!current && (
        <div class="notice danger" role="status">
          <strong>No working access token.</strong>
          Provisioning fails until you regenerate the token and paste it into Entra.
        </div>
      )}
      <dl class="stats">
        <div>
          <dt>Active users</dt>
          <dd>{users.active}</dd>
        </div>
        <div>
          <dt>Inactive users</dt>
          <dd>{users.inactive}</dd>
        </div>
        <div>
          <dt>Adopted users</dt>
          <dd>{users.adopted}</dd>
        </div>
        <div>
          <dt>Groups</dt>
          <dd>{status.groups}</dd>
        </div>
        <div>
          <dt>Failed requests, 24 h</dt>
          <dd>{status.failures}</dd>
        </div>
      </dl>
      <dl class="facts">
        <dt>Last call from the directory</dt>
        <dd>
          {status.lastCalledAt === null ? "Never. Run Test Connection in Entra." : <When at={status.lastCalledAt} />}
        </dd>
        <dt>Access token</dt>
        <dd>
          {current ? (
            <>
              Works until <When at={current.expiresAt} />. Shown only when it was created.
            </>
          ) : (
            "None"
          )}
        </dd>
        {inGrace.map((token) => (
          <>
            <dt>Previous token</dt>
            <dd>
              Keeps working until <When at={token.revokedAt ?? token.expiresAt} />
            </dd>
          </>
        ))}
        <dt>Enabled since</dt>
        <dd>{status.integration && <When at={status.integration.createdAt} />}</dd>
      </dl>
      <CopyField id="scim-url" label="SCIM base URL" value={scimBaseUrl} hint="Entra calls it the Tenant URL." />
      <div class="actions">
        <a class="button" href={paths.regenerate}>
          Regenerate access token
        </a>
        <a class="button danger" href={paths.disable}>
          Disable integration
        </a>
      </div>
    </>
  );
}

/** Add integration: the provider to connect (Entra; Okta uses the same SCIM endpoint), then Apply. */
export function AddIntegrationPage({ nonce, frame }: FramedProps) {
  return (
    <Page title="Add integration" nonce={nonce} frame={frame} tab="integrations" narrow>
      <h1>Add integration</h1>
      <ActionForm action={frame.paths.home} csrf={frame.csrf}>
        <fieldset>
          <legend>Identity provider</legend>
          <Choice
            type="radio"
            name="provider"
            value="azure-ad"
            checked
            label="Microsoft Azure Active Directory"
            hint="Microsoft Entra ID. Okta connects the same way (see the setup guide)."
          />
        </fieldset>
        <p>
          Applying creates your SCIM base URL and access token. The token is shown <strong>once</strong>; have your
          identity provider's provisioning settings open to paste it.
        </p>
        <FormActions submit="Apply" cancel={frame.paths.home} />
      </ActionForm>
    </Page>
  );
}

/**
 * The one page that shows a token: after adding the integration, or after a rotation (whose old token keeps
 * working until `graceUntil`, or stopped at once). The tenant's name heads the credentials: pasted into another
 * organisation's Entra, they would provision that directory into this tenant.
 */
export function TokenIssuedPage({
  nonce,
  frame,
  scimBaseUrl,
  token,
  expiresAt,
  expiringSoon,
  rotation,
}: FramedProps & {
  scimBaseUrl: string;
  token: string;
  expiresAt: number;
  expiringSoon: boolean;
  rotation?: { graceUntil: number | null };
}) {
  const title = rotation ? "New access token" : "Integration added";
  return (
    <Page title={title} nonce={nonce} frame={frame} tab="integrations" narrow>
      <h1>{title}</h1>
      <div class="notice warn" role="alert">
        <strong>Copy the token now: it will not be shown again.</strong>
        {rotation
          ? "Paste it into Entra's Secret Token field and save."
          : "Paste both values into Entra's provisioning settings, then run Test Connection."}
      </div>
      {rotation &&
        (rotation.graceUntil === null ? (
          <div class="notice danger" role="status">
            <strong>The old token has stopped working.</strong>
            Provisioning fails until the new token is saved in Entra.
          </div>
        ) : (
          <div class="notice ok" role="status">
            <strong>
              The old token keeps working until <When at={rotation.graceUntil} />.
            </strong>
            Save the new one in Entra before then.
          </div>
        ))}
      {expiringSoon && (
        <div class="notice warn" role="status">
          <strong>This token expires within 14 days.</strong>
          Plan its regeneration: Entra stops provisioning when its token expires.
        </div>
      )}
      <div class="card">
        <h2>Credentials for {frame.tenantName}</h2>
        <p>
          Entra sends your directory's users and groups to this account. If it is not your organisation's, do not paste
          them.
        </p>
        <CopyField id="scim-url" label="SCIM base URL" value={scimBaseUrl} hint="Entra: Tenant URL." />
        <CopyField
          id="access-token"
          label="Access token"
          value={token}
          hint="Entra: Secret Token. Works until the date below."
        />
        <dl class="facts">
          <dt>Expires</dt>
          <dd>
            <When at={expiresAt} />
          </dd>
        </dl>
        <div class="actions">
          <a class="button" href={frame.paths.home}>
            Done
          </a>
          <a class="button secondary" href={frame.paths.guide()}>
            Setup guide
          </a>
        </div>
      </div>
    </Page>
  );
}

/**
 * Regenerate access token → Apply: a confirmation, with how long the old token may keep working and, when a previous
 * token is still in its grace period, which token keeping the old one working stops now (two work at most).
 */
export function RegeneratePage({
  nonce,
  frame,
  replaces,
  stopping,
}: FramedProps & { replaces: string; stopping: RegenerationPreview["stopping"] }) {
  return (
    <Page title="Regenerate access token" nonce={nonce} frame={frame} tab="integrations" narrow>
      <h1>Regenerate access token</h1>
      <p>
        A new token replaces the current one. Entra keeps using the old token until you paste the new one into its
        provisioning settings.
      </p>
      {stopping.map((token) => (
        <div class="notice warn" role="status">
          <strong>Only two tokens work at a time.</strong>
          If you keep the old token working, the {token.isCurrent ? "current" : "previous"} token, created on{" "}
          <When at={token.createdAt} /> and{" "}
          {token.lastUsedAt === null ? (
            "never used"
          ) : (
            <>
              last used on <When at={token.lastUsedAt} />
            </>
          )}
          , stops now.{" "}
          {token.isCurrent
            ? "The previous token, which Entra used more recently, keeps working, at most until its grace period ends."
            : "The current token keeps working for the time you choose."}
        </div>
      ))}
      <ActionForm action={frame.paths.regenerate} csrf={frame.csrf}>
        {/* The token this form replaces: sent twice (a reload), it is refused instead of rotating again. */}
        <input type="hidden" name="replaces" value={replaces} />
        <fieldset>
          <legend>The old token</legend>
          {GRACE_CHOICES.map((choice, i) => (
            <Choice type="radio" name="grace" checked={i === 0} {...choice} />
          ))}
        </fieldset>
        <FormActions submit="Apply" cancel={frame.paths.home} />
      </ActionForm>
    </Page>
  );
}

/** Disable integration: a confirmation that says what happens to the provisioned users. */
export function DisablePage({ nonce, frame }: FramedProps) {
  return (
    <Page title="Disable integration" nonce={nonce} frame={frame} tab="integrations" narrow>
      <h1>Disable integration</h1>
      <div class="notice danger">
        <strong>Provisioning from your directory stops.</strong>
        The access token stops working at once. Users it provisioned are not deleted: they return to being managed in
        the product, where their access can be changed by hand.
      </div>
      <ActionForm action={frame.paths.disable} csrf={frame.csrf}>
        <FormActions submit="Disable integration" cancel={frame.paths.home} danger />
      </ActionForm>
    </Page>
  );
}
