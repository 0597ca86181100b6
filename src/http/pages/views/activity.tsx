import type { getActivity } from "../../../services/directory";
import type { WebhookHealth } from "../../../services/webhooks";
import { AuditTable } from "./directory";
import { FailureList } from "./failures";
import { Page, type SessionFrame, When } from "./layout";

type Activity = Awaited<ReturnType<typeof getActivity>>;

/** The filters the page offers, as the query string names them. */
export const KINDS = [
  ["", "All changes"],
  ["user.", "Users"],
  ["group.", "Groups"],
  ["token.", "Tokens"],
  ["integration.", "Integration"],
  ["portal.", "Portal and setup links"],
] as const;
export const STATUSES = [
  ["", "Any failure"],
  ["400", "400 refused value"],
  ["404", "404 not found"],
  ["409", "409 conflict"],
  ["412", "412 changed meanwhile"],
  ["429", "429 too many requests"],
] as const;
export const WINDOWS = [
  ["1h", "Last hour", 3_600_000],
  ["24h", "Last 24 hours", 86_400_000],
  ["7d", "Last 7 days", 7 * 86_400_000],
  ["30d", "Last 30 days", 30 * 86_400_000],
  ["all", "Everything kept", null],
] as const;

function Select({
  id,
  label,
  options,
  value,
}: {
  id: string;
  label: string;
  options: readonly (readonly [string, string, ...unknown[]])[];
  value: string;
}) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} name={id}>
        {options.map(([key, text]) => (
          <option value={key} selected={key === value}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}

/**
 * What arrived from the directory and what failed, with what to do about each failure; for the operator also how
 * the change feed's webhooks are doing.
 */
export function ActivityPage({
  nonce,
  frame,
  activity,
  filters,
  more,
}: {
  nonce: string;
  frame: SessionFrame;
  activity: Activity;
  filters: { kind: string; status: string; window: string };
  /** Links to the next page of each list, when there is one. */
  more: { audit: string | null; failures: string | null };
}) {
  const { audit, failures, unusedToken, webhooks } = activity;
  return (
    <Page title="Activity" nonce={nonce} frame={frame} tab="activity">
      <h1>Activity</h1>
      <form method="get" action={frame.paths.activity()} class="filters card" aria-label="Filters">
        <Select id="kind" label="Changes" options={KINDS} value={filters.kind} />
        <Select id="status" label="Failures" options={STATUSES} value={filters.status} />
        <Select id="window" label="Time" options={WINDOWS} value={filters.window} />
        <button class="button secondary" type="submit">
          Show
        </button>
      </form>
      {unusedToken && (
        <div class="notice warn" role="status">
          <strong>Entra has not used the current token yet.</strong>
          The token was regenerated on <When at={unusedToken.createdAt} />; the directory last called on{" "}
          <When at={unusedToken.lastCalledAt} /> with an older one. If Entra's provisioning log shows 401 Unauthorized,
          paste the new token into Secret Token (Provisioning → Admin Credentials) and save.
        </div>
      )}
      <section class="card" aria-labelledby="failures">
        <h2 id="failures">Failed requests</h2>
        {failures.rows.length === 0 ? (
          <p class="muted">No failed requests in this window.</p>
        ) : (
          <FailureList rows={failures.rows} paths={frame.paths} />
        )}
        {more.failures && (
          <a class="button secondary" href={more.failures}>
            Older failures
          </a>
        )}
      </section>
      <section class="card" aria-labelledby="changes">
        <h2 id="changes">Changes</h2>
        {audit.rows.length === 0 ? (
          <p class="muted">Nothing in this window.</p>
        ) : (
          <AuditTable rows={audit.rows} operator={frame.operator} />
        )}
        {more.audit && (
          <a class="button secondary" href={more.audit}>
            Older changes
          </a>
        )}
      </section>
      {webhooks && <WebhookHealthCard health={webhooks} />}
    </Page>
  );
}

function WebhookHealthCard({ health }: { health: WebhookHealth }) {
  return (
    <section class="card" aria-labelledby="webhooks">
      <h2 id="webhooks">Webhook deliveries, last 24 hours</h2>
      {health.endpoints.length === 0 ? (
        <p class="muted">No webhook endpoint takes this tenant's events.</p>
      ) : (
        <>
          <dl class="stats">
            {health.states.map(([state, count]) => (
              <div>
                <dt>{state}</dt>
                <dd>{count}</dd>
              </div>
            ))}
          </dl>
          <table>
            <thead>
              <tr>
                <th scope="col">Endpoint</th>
                <th scope="col">State</th>
                <th scope="col">Owed</th>
                <th scope="col">Coalesced</th>
              </tr>
            </thead>
            <tbody>
              {health.endpoints.map((endpoint) => (
                <tr>
                  <td>
                    <code>{endpoint.url}</code>
                  </td>
                  <td>
                    {endpoint.disabledAt !== null
                      ? `Disabled: ${endpoint.disabledReason ?? "by an operator"}`
                      : endpoint.failingSince !== null
                        ? "Failing"
                        : "Delivering"}
                  </td>
                  <td>{endpoint.owed}</td>
                  <td>
                    {endpoint.coalescedSince === null ? (
                      "None"
                    ) : (
                      <>
                        {endpoint.coalesced} since <When at={endpoint.coalescedSince} />
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
