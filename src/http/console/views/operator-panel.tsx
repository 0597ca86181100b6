import { canRollBack } from "../../../services/tenant-move";
import type { MoveTarget, TenantMove } from "../../../services/tenants";
import { consolePaths } from "../../pages/paths";
import { ActionForm, type SessionFrame } from "../../pages/views/layout";

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
          {/* An hour unless the operator chooses otherwise: time to get the link to the customer, and an unused
              link is a session for whoever holds it (its secret is in its URL, so in the platform's request logs). */}
          <select id="ttl" name="ttlSeconds">
            <option value="300">5 minutes</option>
            <option value="3600" selected>
              1 hour
            </option>
            <option value="86400">24 hours</option>
          </select>
        </div>
        <button class="button" type="submit">
          Create setup link
        </button>
      </ActionForm>
      <h3>Portal sessions</h3>
      <p>{liveSessions === 1 ? "1 customer session is open." : `${liveSessions} customer sessions are open.`}</p>
      {liveSessions > 0 && (
        <a class="button secondary" href={consolePaths.endSessions(tenantId)}>
          End the customer's sessions
        </a>
      )}
      <h3>Azure AD option</h3>
      <p>
        {azureAdEnabled
          ? "On: the customer can set up provisioning. Turning it off stops every token at once."
          : "Off: the customer cannot set up provisioning, and no token works."}
      </p>
      {azureAdEnabled ? (
        <a class="button danger" href={consolePaths.option(tenantId)}>
          Turn the option off
        </a>
      ) : (
        <ActionForm action={consolePaths.option(tenantId)} csrf={csrf}>
          <input type="hidden" name="enabled" value="on" />
          <button class="button" type="submit">
            Turn the option on
          </button>
        </ActionForm>
      )}
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

/** The move's target, on its confirmation page: the least loaded data database chosen, the control database last. */
export function MoveTargets({ choices }: { choices: MoveTarget[] }) {
  return (
    <div class="field">
      <label for="database">Move to</label>
      <select id="database" name="database">
        {choices.map((choice) => (
          <option value={choice.name} selected={choice.suggested}>
            {choice.name} ({choice.tenants} {choice.tenants === 1 ? "tenant" : "tenants"}
            {choice.automatic ? "" : ", the control database"})
          </option>
        ))}
      </select>
    </div>
  );
}

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
              {/* The move was confirmed when it started; resuming it goes on to the same target. */}
              <input type="hidden" name="confirmed" value="yes" />
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
        <>
          {move && (
            <p class="muted">
              Last move: <code>{move.source}</code> to <code>{move.target}</code>, {PHASE_WORDS[move.phase]}.
            </p>
          )}
          {databases.length > 1 && (
            <a class="button secondary" href={consolePaths.move(tenantId)}>
              Move the tenant's data
            </a>
          )}
        </>
      )}
    </>
  );
}
