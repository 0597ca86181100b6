import type { Federation } from "../../../oauth/federation";
import type { IntegrationStatus } from "../../../services/integration";
import { SECRET_EXPIRY_WARNING_MS } from "../../../services/oauth-clients";
import { ActionForm, type Chrome, CopyField, FormActions, Page, type SessionFrame, When } from "./layout";

/**
 * The pages of an integration whose directory authenticates at the token endpoint (Entra's app gallery): what
 * Entra's provisioning page asks for, the client secrets, and a federation's trust as normalised.
 */
type FramedProps = { chrome: Chrome; frame: SessionFrame };

interface ClientRef {
  id: string;
  name: string;
}

/** What Entra's "Client secret" / "Workload Identity Federation" settings take, beside the Tenant URL. */
export interface ClientShown {
  integration: ClientRef;
  scimBaseUrl: string;
  tokenUrl: string;
  clientId: string;
  /** A secret just made (shown this once), or none. */
  secret?: { value: string; expiresAt: number };
  /** A federation, as the service will compare the assertions with it. */
  federation?: Federation;
}

/** A federation's trust as the service compares assertions with it, in the words of Entra's page. */
const FederationFacts = ({ federation }: { federation: Federation }) => (
  <dl class="facts">
    <dt>Issuer</dt>
    <dd>{federation.issuer}</dd>
    <dt>Subject identifier</dt>
    <dd>{federation.subject}</dd>
    <dt>Audience</dt>
    <dd>{federation.audience}</dd>
  </dl>
);

/** The credentials, as Entra's provisioning page names its fields. */
function ClientFields({ shown }: { shown: ClientShown }) {
  return (
    <>
      <CopyField id="scim-url" label="Tenant URL" value={shown.scimBaseUrl} hint="The SCIM base URL." />
      <CopyField id="token-url" label="Token URL" value={shown.tokenUrl} />
      <CopyField id="client-id" label="Client ID" value={shown.clientId} />
      {shown.secret && (
        <>
          <CopyField id="client-secret" label="Client secret" value={shown.secret.value} hint="Shown only now." />
          <dl class="facts">
            <dt>Secret expires</dt>
            <dd>
              <When at={shown.secret.expiresAt} />
            </dd>
          </dl>
        </>
      )}
      {shown.federation && <FederationFacts federation={shown.federation} />}
    </>
  );
}

/**
 * After Add integration (client credentials or federation), and after Add client secret: the values to paste, the
 * secret once. The tenant's name heads them: pasted into another organisation's Entra, they would provision that
 * directory into this account.
 */
export function ClientIssuedPage({
  chrome,
  frame,
  shown,
  added,
}: FramedProps & { shown: ClientShown; added: boolean }) {
  const title = added ? "Integration added" : "New client secret";
  return (
    <Page title={title} chrome={chrome} frame={frame} tab="integrations" narrow>
      <h1>{title}</h1>
      {shown.secret ? (
        <div class="notice warn" role="alert">
          <strong>Copy the client secret now: it will not be shown again.</strong>
          {added
            ? "In Entra's provisioning settings choose OAuth 2.0 client credentials, paste the four values, then run Test Connection."
            : "Paste it into Entra's Client secret field and save; once Entra provisions with it, delete the old secret here."}
        </div>
      ) : (
        <div class="notice ok" role="status">
          <strong>Entra signs in as its workload identity; there is no secret to keep.</strong>
          In Entra's provisioning settings choose Workload Identity Federation, paste the three values, then run Test
          Connection. Check the issuer, subject and audience below against what Entra shows.
        </div>
      )}
      <div class="card">
        <h2>Credentials for {frame.tenantName}</h2>
        <p>
          {shown.integration.name} sends your directory's users and groups to this account. If it is not your
          organisation's, do not paste them.
        </p>
        <ClientFields shown={shown} />
        <div class="actions">
          <a class="button" href={frame.paths.home}>
            Done
          </a>
        </div>
      </div>
    </Page>
  );
}

type ShownIntegration = IntegrationStatus["integrations"][number];

/** On an OAuth integration's card: its client id, the token URL and its secrets with their expiry. */
export function ClientCard({
  shown,
  tokenUrl,
  paths,
  now,
}: {
  shown: ShownIntegration;
  tokenUrl: string;
  paths: SessionFrame["paths"];
  now: number;
}) {
  const { integration, secrets } = shown;
  return (
    <>
      <CopyField id={`token-url-${integration.id}`} label="Token URL" value={tokenUrl} />
      <CopyField id={`client-id-${integration.id}`} label="Client ID" value={integration.clientId ?? ""} />
      {integration.federation && <FederationFacts federation={integration.federation} />}
      {integration.authentication === "oauth_client_credentials" && (
        <>
          <h3>Client secrets</h3>
          <ul class="secrets">
            {secrets.map((secret) => {
              const expired = secret.expiresAt <= now;
              const soon = !expired && secret.expiresAt - now <= SECRET_EXPIRY_WARNING_MS;
              return (
                <li>
                  Created <When at={secret.createdAt} />;{" "}
                  {expired ? (
                    <strong>expired</strong>
                  ) : (
                    <span class={soon ? "badge off" : undefined}>
                      expires <When at={secret.expiresAt} />
                    </span>
                  )}{" "}
                  <a href={paths.deleteSecret(integration.id, secret.id)}>Delete</a>
                </li>
              );
            })}
          </ul>
          {secrets.some((s) => s.expiresAt > now && s.expiresAt - now <= SECRET_EXPIRY_WARNING_MS) && (
            <div class="notice warn" role="status">
              <strong>A client secret expires within 30 days.</strong>
              Add a new one, save it in Entra, then delete the old one: Entra cannot provision once its secret expires.
            </div>
          )}
          <a class="button secondary" href={paths.addSecret(integration.id)}>
            Add client secret
          </a>
        </>
      )}
    </>
  );
}

/** Add client secret: what it does, then the form. */
export function AddSecretPage({ chrome, frame, integration }: FramedProps & { integration: ClientRef }) {
  return (
    <Page title="Add client secret" chrome={chrome} frame={frame} tab="integrations" narrow>
      <h1>Add client secret</h1>
      <p>
        A new secret for {integration.name} works at once beside the current ones (three at most). Save it in Entra,
        then delete the old secret. It expires in two years.
      </p>
      <ActionForm action={frame.paths.addSecret(integration.id)} csrf={frame.csrf}>
        <FormActions submit="Add client secret" cancel={frame.paths.home} />
      </ActionForm>
    </Page>
  );
}

/** Delete client secret: what stops, then the form. */
export function DeleteSecretPage({
  chrome,
  frame,
  integration,
  secretId,
}: FramedProps & { integration: ClientRef; secretId: string }) {
  return (
    <Page title="Delete client secret" chrome={chrome} frame={frame} tab="integrations" narrow>
      <h1>Delete client secret</h1>
      <div class="notice danger">
        <strong>The secret stops working at once.</strong>
        So do the access tokens Entra got with it, within a minute. Delete it only once Entra uses a newer secret.
      </div>
      <ActionForm action={frame.paths.deleteSecret(integration.id, secretId)} csrf={frame.csrf}>
        <FormActions submit="Delete client secret" cancel={frame.paths.home} danger />
      </ActionForm>
    </Page>
  );
}
