import { canRollBack } from "../../../services/tenant-move";
import type { Tenant, TenantMove } from "../../../services/tenants";
import { consolePaths } from "../../pages/paths";
import {
  ActionForm,
  Choice,
  type ConsoleFrame,
  CopyField,
  Page,
  type SessionFrame,
  When,
} from "../../pages/views/layout";

/** Signing in with the admin API key; a wrong key gets the same words whatever was wrong with it. */
export function SignInPage({ nonce, refused }: { nonce: string; refused?: boolean }) {
  return (
    <Page title="Sign in" nonce={nonce} narrow>
      <div class="card">
        <h1>Directory sync console</h1>
        <p>For the vendor's operators. Sign in with the admin API key of this deployment.</p>
        {refused && (
          <div class="notice danger" role="alert">
            <strong>That key was not accepted.</strong>
            Check it and try again.
          </div>
        )}
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
      </div>
    </Page>
  );
}

/** All tenants: search by name, page by id, create one. */
export function TenantsPage({
  nonce,
  console,
  tenants,
  query,
  next,
}: {
  nonce: string;
  console: ConsoleFrame;
  tenants: Tenant[];
  query: string;
  next: string | null;
}) {
  return (
    <Page title="Tenants" nonce={nonce} console={console} tab="tenants">
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

/** The operator's part of a tenant's integration page: what only the vendor may do. */
export function OperatorPanel({
  frame,
  azureAdEnabled,
  liveSessions,
  placement,
}: {
  frame: SessionFrame;
  azureAdEnabled: boolean;
  liveSessions: number;
  placement: Placement;
}) {
  const { tenantId, csrf } = frame;
  return (
    <section class="card" aria-labelledby="operator">
      <h2 id="operator">Operator</h2>
      <h3>Setup link for the customer</h3>
      <ActionForm action={consolePaths.setupLinks(tenantId)} csrf={csrf}>
        <div class="field">
          <label for="ttl">Valid for</label>
          <select id="ttl" name="ttlSeconds">
            <option value="300">5 minutes</option>
            <option value="3600">1 hour</option>
            <option value="86400" selected>
              24 hours
            </option>
          </select>
        </div>
        <button class="button" type="submit">
          Create setup link
        </button>
      </ActionForm>
      <h3>Portal sessions</h3>
      <p>{liveSessions === 1 ? "1 customer session is open." : `${liveSessions} customer sessions are open.`}</p>
      <ActionForm action={consolePaths.endSessions(tenantId)} csrf={csrf}>
        <button class="button secondary" type="submit" disabled={liveSessions === 0}>
          End the customer's sessions
        </button>
      </ActionForm>
      <h3>Azure AD option</h3>
      <p>
        {azureAdEnabled
          ? "On: the customer can set up provisioning. Turning it off stops every token at once."
          : "Off: the customer cannot set up provisioning, and no token works."}
      </p>
      <ActionForm action={consolePaths.option(tenantId)} csrf={csrf}>
        <input type="hidden" name="enabled" value={azureAdEnabled ? "off" : "on"} />
        <button class={`button ${azureAdEnabled ? "danger" : ""}`} type="submit">
          {azureAdEnabled ? "Turn the option off" : "Turn the option on"}
        </button>
      </ActionForm>
      <DatabasePanel frame={frame} placement={placement} />
    </section>
  );
}

interface Placement {
  database: string;
  databases: readonly string[];
  move: TenantMove | null;
}

/** How each phase of a move reads to an operator (docs/operations.md, "Moving a tenant"). */
const PHASE_WORDS: Record<TenantMove["phase"], string> = {
  preparing: "preparing the target",
  copying: "copying while Entra keeps writing",
  catching_up: "catching up with the latest changes",
  switching: "switching (requests wait a few seconds)",
  settling: "switched; waiting for cached routes to expire",
  cleaning: "switched; removing the old copy",
  done: "done",
  rolling_back: "rolling back",
  rolled_back: "rolled back",
};

/** Where the tenant's data is, its move if one runs (with what the operator can do), or the form to start one. */
function DatabasePanel({ frame, placement }: { frame: SessionFrame; placement: Placement }) {
  const { tenantId, csrf } = frame;
  const { database, databases, move } = placement;
  const running = move !== null && move.phase !== "done" && move.phase !== "rolled_back";
  return (
    <>
      <h3>Data database</h3>
      <p>
        The directory, logs and change feed are in <code>{database}</code>.
      </p>
      {running ? (
        <>
          <p class={move.state === "failed" ? "notice danger" : "notice"} role="status">
            <strong>
              Moving from <code>{move.source}</code> to <code>{move.target}</code>: {PHASE_WORDS[move.phase]}
              {move.state === "failed" ? ", stopped after repeated failures." : "."}
            </strong>
            {move.error && <span> Last error: {move.error}</span>}
          </p>
          {move.state === "failed" && move.phase !== "rolling_back" && (
            <ActionForm action={consolePaths.move(tenantId)} csrf={csrf}>
              <input type="hidden" name="database" value={move.target} />
              <button class="button" type="submit">
                Resume the move
              </button>
            </ActionForm>
          )}
          {canRollBack(move) && (move.phase !== "rolling_back" || move.state === "failed") && (
            <ActionForm action={consolePaths.rollBack(tenantId)} csrf={csrf}>
              <button class="button secondary" type="submit">
                Roll the move back
              </button>
            </ActionForm>
          )}
        </>
      ) : (
        <ActionForm action={consolePaths.move(tenantId)} csrf={csrf}>
          {move && (
            <p class="muted">
              Last move: <code>{move.source}</code> to <code>{move.target}</code>, {PHASE_WORDS[move.phase]}.
            </p>
          )}
          <div class="field">
            <label for="database">Move to</label>
            <select id="database" name="database">
              {databases
                .filter((name) => name !== database)
                .map((name) => (
                  <option value={name}>{name}</option>
                ))}
            </select>
          </div>
          <button class="button secondary" type="submit" disabled={databases.length < 2}>
            Move the tenant's data
          </button>
        </ActionForm>
      )}
    </>
  );
}

/** A setup link, shown once to the operator who made it, to send to the customer. */
export function SetupLinkPage({
  nonce,
  frame,
  url,
  expiresAt,
}: {
  nonce: string;
  frame: SessionFrame;
  url: string;
  expiresAt: number;
}) {
  return (
    <Page title="Setup link" nonce={nonce} frame={frame} tab="integrations" narrow>
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
