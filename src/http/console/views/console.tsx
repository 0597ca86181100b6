import type { Tenant, TenantHealth } from "../../../services/tenants";
import { areaPaths, consolePaths } from "../../pages/paths";
import {
  ActionForm,
  Ago,
  Choice,
  type Chrome,
  type ConsoleFrame,
  CopyField,
  Page,
  type SessionFrame,
  When,
} from "../../pages/views/layout";

/**
 * Signing in with the admin API key, where the key may sign in (a wrong key gets the same words whatever was wrong
 * with it); else the page says the console's way in is Cloudflare Access. Behind Access, an operator never sees this
 * page: Access's assertion signs them in.
 */
export function SignInPage({
  chrome,
  keySignIn,
  access,
  refused,
}: {
  chrome: Chrome;
  keySignIn: boolean;
  /** Cloudflare Access is configured: without it and the key, nobody can sign in. */
  access: boolean;
  refused?: boolean;
}) {
  return (
    <Page title="Sign in" chrome={chrome} narrow>
      <div class="card">
        <h1>{chrome.brand.name} console</h1>
        {keySignIn ? (
          <p>For the vendor's operators. Sign in with the admin API key of this deployment.</p>
        ) : access ? (
          <p>
            For the vendor's operators, who sign in through Cloudflare Access. Signing in with the admin API key is
            turned off for this deployment.
          </p>
        ) : (
          <p>
            The console is turned off for this deployment: signing in with the admin API key is off
            (CONSOLE_KEY_SIGN_IN) and Cloudflare Access is not configured.
          </p>
        )}
        {refused && (
          <div class="notice danger" role="alert">
            <strong>That key was not accepted.</strong>
            Check it and try again.
          </div>
        )}
        {keySignIn && (
          <form method="post" action={consolePaths.signIn}>
            <div class="field">
              <label for="key">Admin API key</label>
              <div class="copy">
                <input id="key" name="key" type="password" autocomplete="off" required />
              </div>
            </div>
            <button class="button" type="submit">
              Sign in
            </button>
          </form>
        )}
      </div>
    </Page>
  );
}

/**
 * Whether the tenant's directory works, in words that need no column header (a phone's table has none): when it last
 * called, and its failures of the day, set apart and linked to its activity when there are any.
 */
function Health({ tenantId, health, now }: { tenantId: string; health: TenantHealth; now: number }) {
  const { lastCalledAt, unrecordedCalls, failures } = health;
  return (
    <>
      <div>
        {lastCalledAt === null ? (
          unrecordedCalls ? (
            "Calls not recorded (OAuth)"
          ) : (
            "Never called"
          )
        ) : (
          <>
            Last call <Ago at={lastCalledAt} now={now} />
            {unrecordedCalls && " with a token; OAuth calls not recorded"}
          </>
        )}
      </div>
      <div>
        {failures === null ? (
          <span class="muted">Failures unknown: its database did not answer</span>
        ) : failures === 0 ? (
          "No failures in 24 h"
        ) : (
          <a class="badge warn" href={areaPaths(consolePaths.tenant(tenantId)).activity()}>
            {`${failures} ${failures === 1 ? "failure" : "failures"} in 24 h`}
          </a>
        )}
      </div>
    </>
  );
}

/** All tenants with their health: search by name, page by id, create one. */
export function TenantsPage({
  chrome,
  console,
  tenants,
  now,
  query,
  next,
}: {
  chrome: Chrome;
  console: ConsoleFrame;
  tenants: (Tenant & { health: TenantHealth })[];
  now: number;
  query: string;
  next: string | null;
}) {
  return (
    <Page title="Tenants" chrome={chrome} console={console} tab="tenants">
      <h1>Tenants</h1>
      <section class="card" aria-labelledby="find">
        <h2 id="find">Find a tenant</h2>
        <form method="get" action={consolePaths.tenants()} class="search">
          <label for="q" class="visually-hidden">
            Name contains
          </label>
          <input id="q" name="q" type="search" value={query} placeholder="Name contains…" />
          <button class="button secondary" type="submit">
            Search
          </button>
        </form>
        {tenants.length === 0 ? (
          <p class="muted">{query ? "No tenant's name contains that." : "No tenants yet."}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Health</th>
                <th scope="col">Azure AD option</th>
                <th scope="col">Database</th>
                <th scope="col">Created</th>
                <th scope="col">Id</th>
              </tr>
            </thead>
            <tbody>
              {tenants.map((t) => (
                <tr>
                  <td>
                    <a href={consolePaths.tenant(t.id)}>{t.name}</a>
                  </td>
                  <td>
                    <Health tenantId={t.id} health={t.health} now={now} />
                  </td>
                  <td>{t.azureAdEnabled ? "On" : "Off"}</td>
                  <td>
                    <code>{t.database}</code>
                  </td>
                  <td>
                    <When at={t.createdAt} />
                  </td>
                  <td>
                    <code>{t.id}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {next && (
          <a class="button secondary" href={next}>
            Next page
          </a>
        )}
      </section>
      <section class="card" aria-labelledby="create">
        <h2 id="create">Create a tenant</h2>
        <ActionForm action={consolePaths.tenants()} csrf={console.csrf}>
          <div class="field">
            <label for="name">Customer name</label>
            <div class="copy">
              <input id="name" name="name" type="text" required maxlength={200} autocomplete="off" />
            </div>
          </div>
          <Choice
            type="checkbox"
            name="azureAdEnabled"
            value="on"
            checked
            label="Azure AD option on"
            hint="The customer can add the Microsoft Entra ID (or Okta) integration."
          />
          <div class="actions">
            <button class="button" type="submit">
              Create tenant
            </button>
          </div>
        </ActionForm>
      </section>
    </Page>
  );
}

/** A setup link, shown once to the operator who made it, to send to the customer. */
export function SetupLinkPage({
  chrome,
  frame,
  url,
  expiresAt,
}: {
  chrome: Chrome;
  frame: SessionFrame;
  url: string;
  expiresAt: number;
}) {
  return (
    <Page title="Setup link" chrome={chrome} frame={frame} tab="integrations" narrow>
      <h1>Setup link</h1>
      <div class="notice warn" role="alert">
        <strong>Send this link to the customer's admin now: it is shown once.</strong>
        It works once, for this tenant only, until the time below.
      </div>
      <div class="card">
        <CopyField id="setup-link" label="Setup link" value={url} />
        <dl class="facts">
          <dt>Expires</dt>
          <dd>
            <When at={expiresAt} />
          </dd>
        </dl>
        <a class="button" href={frame.paths.home}>
          Done
        </a>
      </div>
    </Page>
  );
}
