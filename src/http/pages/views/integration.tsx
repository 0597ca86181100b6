import { PROVIDER_NAMING } from "../../../scim/provider-mappings";
import { type AuthenticationMethod, PROVIDERS, type Provider } from "../../../scim/providers";
import type { IntegrationStatus, RegenerationPreview, RemovalPreview } from "../../../services/integration";
import type { Quota } from "../../../services/quotas";
import { OperatorPanel } from "../../console/views/operator-panel";
import type { AreaPaths } from "../paths";
import { FailureList } from "./failures";
import { ActionForm, Choice, type Chrome, CopyField, FormActions, Page, type SessionFrame, When } from "./layout";
import { ClientCard } from "./oauth";
import { ProviderIcon } from "./provider-icons";

interface FramedProps {
  chrome: Chrome;
  frame: SessionFrame;
}

/** The grace periods the portal offers when regenerating; none (the compromise case) is the default. */
export const GRACE_CHOICES = [
  { value: "0", label: "Stop the old token now", hint: "Choose this if the token may have been exposed." },
  {
    value: "3600",
    label: "Keep the old token working for 1 hour",
    hint: "Time to paste the new one into your directory.",
  },
  { value: "86400", label: "Keep the old token working for 1 day", hint: "" },
  { value: "604800", label: "Keep the old token working for 7 days", hint: "For a planned change window." },
] as const;

/**
 * What the page confirms after a change that redirected to it (`?done=…`): its words, and whether the customer's own
 * actions can lead to it (a link cannot make a customer's page claim an operator did something).
 */
export const NOTICES = {
  disabled: {
    title: "Integration disabled.",
    text: "The access token no longer works, and users it provisioned are managed in the product again.",
    customer: true,
  },
  "secret-deleted": {
    title: "Client secret deleted.",
    text: "It no longer works, and the access tokens Entra got with it stop within a minute.",
    customer: true,
  },
  "sessions-ended": {
    title: "The customer's sessions were ended.",
    text: "Their next visit needs a new setup link.",
    customer: false,
  },
  "roles-applied": {
    title: "Roles applied.",
    text: "Users' roles follow the new mapping; the activity page lists each change.",
    customer: true,
  },
  "fields-applied": {
    title: "Fields applied.",
    text: "Users' fields follow the new mapping; each user's page shows them.",
    customer: true,
  },
  "option-on": {
    title: "The Azure AD option is on.",
    text: "The customer can add the integration, or regenerate its token.",
    customer: false,
  },
  "option-off": {
    title: "The Azure AD option is off.",
    text: "Every token of this tenant stopped working.",
    customer: false,
  },
  "move-started": {
    title: "The move has started.",
    text: "Entra keeps provisioning while the data is copied; the switch itself takes seconds. Reload to follow it.",
    customer: false,
  },
  "move-rolling-back": {
    title: "The move is being rolled back.",
    text: "The tenant stays where it was; the copy is removed.",
    customer: false,
  },
} as const satisfies Record<string, { title: string; text: string; customer: boolean }>;

export type Notice = keyof typeof NOTICES;

/** What the pages of one integration name of it. */
interface IntegrationRef {
  id: string;
  name: string;
  provider: Provider;
}

/** A provider as the customer knows it; Entra's is followed by its former name, which admins still search for. */
export const providerLabel = (provider: Provider) => {
  const entry: { name: string; formerly?: string } = PROVIDERS[provider];
  return entry.formerly ? `${entry.name} (formerly ${entry.formerly})` : entry.name;
};

/** "Okta's", "Entra's", "the directory's": where the customer pastes or changes something. */
const possessive = (provider: Provider) => `${PROVIDER_NAMING[provider].short}'s`;

/**
 * Integrations: a card per directory connected (its status, what it provisions, its token, what can be done with
 * it), or the way to add the first one; for an operator, the operator's panel under them.
 */
export function IntegrationsPage({
  chrome,
  frame,
  status,
  scimBaseUrlOf,
  tokenUrl,
  now,
  notice,
}: FramedProps & {
  status: IntegrationStatus;
  scimBaseUrlOf: (integrationId: string) => string;
  /** The token endpoint, for the cards of OAuth integrations. */
  tokenUrl: string;
  now: number;
  notice: Notice | null;
}) {
  const enabled = status.tenant.azureAdEnabled;
  const any = status.integrations.length > 0;
  return (
    <Page title="Integrations" chrome={chrome} frame={frame} tab="integrations">
      <h1>Integrations</h1>
      {notice && (
        <div class="notice ok" role="status">
          <strong>{NOTICES[notice].title}</strong>
          {NOTICES[notice].text}
        </div>
      )}
      {status.quotaNotices.map((notice) => (
        <QuotaNotice {...notice} />
      ))}
      {any && !enabled && (
        <div class="notice danger" role="status">
          <strong>Provisioning has been turned off for your account.</strong>
          The access tokens of your directories no longer work. Ask your account manager to turn it back on; then
          regenerate the tokens here.
        </div>
      )}
      {status.integrations.map((integration) => (
        <IntegrationCard
          integration={integration}
          all={status.integrations}
          enabled={enabled}
          scimBaseUrl={scimBaseUrlOf(integration.integration.id)}
          tokenUrl={tokenUrl}
          now={now}
          paths={frame.paths}
        />
      ))}
      {!enabled && !any ? (
        <section class="card" aria-labelledby="add">
          <h2 id="add">Provisioning</h2>
          <p>
            Provisioning from your directory is not available for your account yet. Ask your account manager to turn it
            on.
          </p>
        </section>
      ) : !any ? (
        <section class="card" aria-labelledby="add">
          <h2 id="add">Connect your directory</h2>
          <p>
            Provision users and groups automatically from Microsoft Entra ID, Okta or another directory: new people get
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
        </section>
      ) : (
        enabled && (
          <div class="actions">
            <a class="button secondary" href={frame.paths.add}>
              Add integration
            </a>
          </div>
        )
      )}
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

type ShownIntegration = IntegrationStatus["integrations"][number];

/**
 * One integration's card: its badge, and while integrations are on, its warnings, counts, its latest failed requests
 * with what to do (in its provider's words), its token and actions.
 */
function IntegrationCard({
  integration: shown,
  all,
  enabled,
  scimBaseUrl,
  tokenUrl,
  now,
  paths,
}: {
  integration: ShownIntegration;
  all: ShownIntegration[];
  enabled: boolean;
  scimBaseUrl: string;
  tokenUrl: string;
  now: number;
  paths: AreaPaths;
}) {
  const { integration, current, inGrace, users } = shown;
  // A directory that gets access tokens from the token endpoint has a client id and secrets, no token of its own.
  const bearer = integration.authentication === "bearer";
  const { provider } = integration;
  const paused = integration.pausedAt !== null;
  const heading = `integration-${integration.id}`;
  const from = integration.takesOverFrom;
  return (
    <section class="card" aria-labelledby={heading}>
      <div class="card-head">
        <ProviderIcon provider={provider} />
        <h2 id={heading}>{integration.name}</h2>
        <span class={`badge ${enabled && !paused ? "on" : "off"}`}>
          {!enabled ? "Turned off" : paused ? "Paused" : "Enabled"}
        </span>
      </div>
      {integration.name !== PROVIDERS[provider].name && <p>{providerLabel(provider)}</p>}
      {enabled && paused && (
        <div class="notice warn" role="status">
          <strong>Provisioning from this directory is paused.</strong>
          Its changes are refused for now and {PROVIDER_NAMING[provider].short} retries them later; its access token
          keeps working. Ask your account manager to resume it.
        </div>
      )}
      {enabled && bearer && current && shown.expiringSoon && (
        <div class="notice warn" role="status">
          <strong>The access token expires soon.</strong>
          It stops working on <When at={current.expiresAt} />. Regenerate it and paste the new one into{" "}
          {PROVIDER_NAMING[provider].short} before then, or provisioning stops.
        </div>
      )}
      {enabled && bearer && !current && (
        <div class="notice danger" role="status">
          <strong>No working access token.</strong>
          Provisioning fails until you regenerate the token and paste it into {PROVIDER_NAMING[provider].short}.
        </div>
      )}
      {enabled && (
        <>
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
              <dd>{shown.groups}</dd>
            </div>
            <div>
              <dt>Failed requests, 24 h</dt>
              <dd>{shown.failures}</dd>
            </div>
          </dl>
          <p class="hint">
            Users and groups this directory provisions. Adopted users had an account in the product before; the
            directory took it over instead of creating a second one. Disabling the integration hands its users back to
            the product, so a directory added again starts from 0 until its first sync.
          </p>
          {shown.newestFailures.length > 0 && (
            <>
              <h3>Latest failed requests</h3>
              <FailureList rows={shown.newestFailures} paths={paths} />
              <p>
                <a href={paths.activity()}>All failed requests</a>
              </p>
            </>
          )}
          <dl class="facts">
            {/* Known from the vendor's tokens' use; a token endpoint's access tokens are stateless and record none. */}
            {bearer && (
              <>
                <dt>Last call from the directory</dt>
                <dd>
                  {shown.lastCalledAt === null ? (
                    `Never. Run ${provider === "entra" ? "Test Connection" : "the connection test"} in ${PROVIDER_NAMING[provider].short}.`
                  ) : (
                    <When at={shown.lastCalledAt} />
                  )}
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
              </>
            )}
            {(bearer ? inGrace : []).map((token) => (
              <>
                <dt>Previous token</dt>
                <dd>
                  Keeps working until <When at={token.revokedAt ?? token.expiresAt} />
                </dd>
              </>
            ))}
            <dt>Enabled since</dt>
            <dd>
              <When at={shown.createdAt} />
            </dd>
            {from !== null && <MovingFrom source={all.find((other) => other.integration.id === from)} />}
          </dl>
          <CopyField
            id={`scim-url-${integration.id}`}
            label="SCIM base URL"
            value={scimBaseUrl}
            hint={provider === "entra" ? "Entra calls it the Tenant URL." : undefined}
          />
          {!bearer && <ClientCard shown={shown} tokenUrl={tokenUrl} paths={paths} now={now} />}
        </>
      )}
      <div class="actions">
        {enabled && bearer && (
          <a class="button" href={paths.regenerate(integration.id)}>
            Regenerate access token
          </a>
        )}
        {enabled && (
          <a class="button secondary" href={paths.roles(integration.id)}>
            Roles
          </a>
        )}
        {enabled && (
          <a class="button secondary" href={paths.fields(integration.id)}>
            Fields
          </a>
        )}
        <a class="button danger" href={paths.disable(integration.id)}>
          Disable integration
        </a>
        {enabled && (
          <a class="button secondary" href={paths.guide(provider, integration.id)}>
            Setup guide
          </a>
        )}
      </div>
    </section>
  );
}

/**
 * A move from another directory, as the replacing one's card shows it: which directory, and how much of it the new
 * one has not matched yet (what the old one still manages: its own card counts the same).
 */
function MovingFrom({ source }: { source: ShownIntegration | undefined }) {
  const users = source ? source.users.active + source.users.inactive : 0;
  return (
    <>
      <dt>Moving from</dt>
      <dd>
        {source
          ? `${source.integration.name}: ${users.toLocaleString("en-US")} ${users === 1 ? "user" : "users"} and ` +
            `${source.groups.toLocaleString("en-US")} ${source.groups === 1 ? "group" : "groups"} not found here yet`
          : "A directory since removed"}
      </dd>
    </>
  );
}

/** How each method reads on Add integration. */
const METHOD_WORDS: Record<AuthenticationMethod, { label: string; hint: string }> = {
  bearer: { label: "Secret token", hint: "A long-lived access token pasted into Entra (apps outside the gallery)." },
  oauth_client_credentials: {
    label: "OAuth 2.0 client credentials",
    hint: "A client ID and secret; Entra gets short-lived tokens from the token URL.",
  },
  workload_identity: {
    label: "Workload identity federation",
    hint: "No secret at all: Entra signs in as its workload identity. Fill in the fields below.",
  },
};

/** A labelled text input of a form. */
const TextField = ({ name, label, hint }: { name: string; label: string; hint: string }) => (
  <label class="field">
    <span>{label}</span>
    <input type="text" name={name} autocomplete="off" spellcheck={false} />
    <small>{hint}</small>
  </label>
);

/**
 * Add integration: the providers the tenant allows (Microsoft Entra ID first, chosen), then Apply. The form carries
 * the integrations the tenant has now (`seen`): sent again after one was added, it is refused instead of adding
 * another.
 */
export function AddIntegrationPage({
  chrome,
  frame,
  providers,
  sources,
  seen,
  methods,
}: FramedProps & {
  providers: readonly Provider[];
  sources: readonly IntegrationRef[];
  seen: readonly string[];
  /** How an Entra directory may authenticate here (ENTRA_AUTH_METHODS); a choice only when there are several. */
  methods: readonly AuthenticationMethod[];
}) {
  return (
    <Page title="Add integration" chrome={chrome} frame={frame} tab="integrations" narrow>
      <h1>Add integration</h1>
      <ActionForm action={frame.paths.home} csrf={frame.csrf}>
        <input type="hidden" name="seen" value={seen.join(",")} />
        <fieldset>
          <legend>Identity provider</legend>
          {providers.map((provider, i) => (
            <Choice
              type="radio"
              name="provider"
              value={provider}
              checked={i === 0}
              label={providerLabel(provider)}
              icon={<ProviderIcon provider={provider} />}
              hint={provider === "scim" ? "Any other directory that provisions over SCIM 2.0." : undefined}
            />
          ))}
        </fieldset>
        {providers.includes("entra") && methods.length > 1 && (
          <fieldset>
            <legend>How Microsoft Entra ID signs in</legend>
            {methods.map((method, i) => (
              <Choice
                type="radio"
                name="authentication"
                value={method}
                checked={i === 0}
                label={METHOD_WORDS[method].label}
                hint={METHOD_WORDS[method].hint}
              />
            ))}
          </fieldset>
        )}
        {providers.includes("entra") && methods.includes("workload_identity") && (
          <fieldset>
            <legend>Workload identity federation: what Entra shows</legend>
            <p>Only for Microsoft Entra ID signing in with workload identity federation.</p>
            <TextField name="issuer" label="Issuer" hint="https://login.microsoftonline.com/<tenant id>/v2.0" />
            <TextField name="subject" label="Subject identifier" hint="The provisioning service's workload identity." />
            <TextField name="audience" label="Audience" hint="api://<application id>/.default" />
          </fieldset>
        )}
        {sources.length > 0 && (
          <fieldset>
            <legend>Moving from another directory?</legend>
            <Choice type="radio" name="from" value="" checked label="No, this directory is in addition" />
            {sources.map((source) => (
              <Choice
                type="radio"
                name="from"
                value={source.id}
                label={`Yes, it replaces ${source.name}`}
                hint={`Its users and groups move to the new directory as it finds them, keeping their access; nobody is deactivated. Disable ${source.name} once the new directory's first sync has run.`}
              />
            ))}
          </fieldset>
        )}
        <p>
          Applying creates a SCIM base URL and an access token for this directory. The token is shown{" "}
          <strong>once</strong>; have your identity provider's provisioning settings open to paste it.
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
  chrome,
  frame,
  integration,
  scimBaseUrl,
  token,
  expiresAt,
  expiringSoon,
  rotation,
}: FramedProps & {
  integration: IntegrationRef;
  scimBaseUrl: string;
  token: string;
  expiresAt: number;
  expiringSoon: boolean;
  rotation?: { graceUntil: number | null };
}) {
  const title = rotation ? "New access token" : "Integration added";
  const { provider } = integration;
  const short = PROVIDER_NAMING[provider].short;
  const entra = provider === "entra";
  return (
    <Page title={title} chrome={chrome} frame={frame} tab="integrations" narrow>
      <h1>{title}</h1>
      <div class="notice warn" role="alert">
        <strong>Copy the token now: it will not be shown again.</strong>
        {rotation
          ? entra
            ? "Paste it into Entra's Secret Token field and save."
            : `Paste it into ${possessive(provider)} provisioning settings in place of the old one and save.`
          : `Paste both values into ${possessive(provider)} provisioning settings, then ${entra ? "run Test Connection" : "test the connection"}.`}
      </div>
      {rotation &&
        (rotation.graceUntil === null ? (
          <div class="notice danger" role="status">
            <strong>The old token has stopped working.</strong>
            Provisioning fails until the new token is saved in {short}.
          </div>
        ) : (
          <div class="notice ok" role="status">
            <strong>
              The old token keeps working until <When at={rotation.graceUntil} />.
            </strong>
            Save the new one in {short} before then.
          </div>
        ))}
      {expiringSoon && (
        <div class="notice warn" role="status">
          <strong>This token expires within 14 days.</strong>
          Plan its regeneration: {short} stops provisioning when its token expires.
        </div>
      )}
      <div class="card">
        <h2>Credentials for {frame.tenantName}</h2>
        <p>
          {integration.name} sends your directory's users and groups to this account. If it is not your organisation's,
          do not paste them.
        </p>
        <CopyField
          id="scim-url"
          label="SCIM base URL"
          value={scimBaseUrl}
          hint={entra ? "Entra: Tenant URL." : undefined}
        />
        <CopyField
          id="access-token"
          label="Access token"
          value={token}
          hint={`${entra ? "Entra: Secret Token. " : ""}Works until the date below.`}
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
          <a class="button secondary" href={frame.paths.guide(provider, integration.id)}>
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
  chrome,
  frame,
  integration,
  replaces,
  stopping,
}: FramedProps & { integration: IntegrationRef; replaces: string; stopping: RegenerationPreview["stopping"] }) {
  const short = PROVIDER_NAMING[integration.provider].short;
  return (
    <Page title="Regenerate access token" chrome={chrome} frame={frame} tab="integrations" narrow>
      <h1>Regenerate access token</h1>
      <p>
        For <strong>{integration.name}</strong>. A new token replaces the current one. {short} keeps using the old token
        until you paste the new one into its provisioning settings.
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
            ? `The previous token, which ${short} used more recently, keeps working, at most until its grace period ends.`
            : "The current token keeps working for the time you choose."}
        </div>
      ))}
      <ActionForm action={frame.paths.regenerate(integration.id)} csrf={frame.csrf}>
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
/** What Disable integration may do with the users a move to another directory left unmatched (removeIntegration). */
export const UNMATCHED_CHOICES = ["deactivate", "keep"] as const;

/**
 * Disable integration. For a directory another is replacing, the users the new one has not matched are counted and
 * the first of them named, and the admin decides what becomes of them: they are never left active unasked.
 */
export function DisablePage({
  chrome,
  frame,
  integration,
  taker,
  unmatched,
}: FramedProps & Pick<RemovalPreview, "taker" | "unmatched"> & { integration: IntegrationRef }) {
  const left = taker && unmatched && unmatched.count > 0 ? unmatched : null;
  return (
    <Page title="Disable integration" chrome={chrome} frame={frame} tab="integrations" narrow>
      <h1>Disable integration</h1>
      <div class="notice danger">
        <strong>Provisioning from {integration.name} stops.</strong>
        Its access token stops working at once. Users it provisioned are not deleted: they return to being managed in{" "}
        {chrome.brand.product}, where their access can be changed by hand. Your other directories are not affected.
      </div>
      {taker && !left && (
        <p>
          {taker.name} has taken over every user {integration.name} provisioned; they stay with {taker.name}.
        </p>
      )}
      <ActionForm action={frame.paths.disable(integration.id)} csrf={frame.csrf}>
        {taker && left && (
          <>
            <h2>
              {left.count.toLocaleString("en-US")} {left.count === 1 ? "user was" : "users were"} not found in{" "}
              {taker.name}
            </h2>
            <p>
              {taker.name} is replacing {integration.name}, and has taken over the users it found. These were not found
              there{left.count > left.sample.length ? ` (the first ${left.sample.length})` : ""}:
            </p>
            <ul class="names">
              {left.sample.map((user) => (
                <li>{user.name}</li>
              ))}
            </ul>
            <fieldset>
              <legend>What happens to them</legend>
              <Choice
                type="radio"
                name="unmatched"
                value="deactivate"
                checked
                label="Deactivate them"
                hint={`They lose access; they can be reactivated in ${chrome.brand.product} or by a directory.`}
              />
              <Choice
                type="radio"
                name="unmatched"
                value="keep"
                label="Keep them active"
                hint={`They keep their access, managed in ${chrome.brand.product} by hand.`}
              />
            </fieldset>
          </>
        )}
        <FormActions submit="Disable integration" cancel={frame.paths.home} danger />
      </ActionForm>
    </Page>
  );
}
