import type {
  AccessReason,
  getDirectoryGroup,
  getDirectoryUser,
  listDirectoryGroups,
  listDirectoryUsers,
} from "../../../services/directory";
import { actionWords } from "./action-words";
import { FOUND_WORDS, MISFIT_WORDS } from "./fields";
import { type Chrome, Page, type SessionFrame, When } from "./layout";
import { UserAttributes } from "./user-attributes";

type Users = Awaited<ReturnType<typeof listDirectoryUsers>>;
type UserDetail = Awaited<ReturnType<typeof getDirectoryUser>>;
type Groups = Awaited<ReturnType<typeof listDirectoryGroups>>;
type GroupDetail = Awaited<ReturnType<typeof getDirectoryGroup>>;

interface FramedProps {
  chrome: Chrome;
  frame: SessionFrame;
}

const query = (params: Record<string, string | undefined>) => {
  const defined = Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== "");
  return defined.length ? `?${new URLSearchParams(defined)}` : "";
};

/**
 * Who manages a user, and its state, as badges that say it in words: made in the product and managed there, or
 * provisioned by the directory; and, for one the directory took over, that it had an account here first.
 */
function UserBadges({
  user,
  product,
}: {
  user: { active: boolean; managedBy: string; adoptedAt: number | null };
  product: string;
}) {
  return (
    <>
      <span class={`badge ${user.active ? "on" : "off"}`}>{user.active ? "Active" : "Inactive"}</span>{" "}
      <span class="badge off">{user.managedBy === "portal" ? `Managed in ${product}` : "From your directory"}</span>
      {user.adoptedAt !== null && (
        <>
          {" "}
          <span class="badge off">Had an account before</span>
        </>
      )}
    </>
  );
}

export function UsersPage({ chrome, frame, list, search }: FramedProps & { list: Users; search: string }) {
  return (
    <Page title="Users" chrome={chrome} frame={frame} tab="users">
      <h1>Users</h1>
      <section class="card" aria-labelledby="user-list">
        <h2 id="user-list" class="visually-hidden">
          User list
        </h2>
        <form method="get" action={frame.paths.users()} class="search">
          <label for="search">userName or work email starts with</label>
          <div class="copy">
            <input id="search" name="search" type="search" value={search} autocomplete="off" />
            <button class="button secondary" type="submit">
              Search
            </button>
          </div>
        </form>
        {list.users.length === 0 ? (
          <p class="muted">{search ? "No user's userName or work email starts with that." : "No users yet."}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Username (UPN)</th>
                <th scope="col">Name</th>
                <th scope="col">Work email</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {list.users.map((user) => (
                <tr>
                  <td>
                    <a href={frame.paths.user(user.id)}>{user.userName}</a>
                  </td>
                  <td>{user.displayName ?? ""}</td>
                  <td>{user.email ?? ""}</td>
                  <td>
                    <UserBadges user={user} product={chrome.brand.product} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {list.next && (
          <a class="button secondary" href={frame.paths.users(query({ search, after: list.next }))}>
            Next page
          </a>
        )}
      </section>
    </Page>
  );
}

/** A user: its state, its groups, its attributes exactly as stored, and what happened to it. */
export function UserPage({ chrome, frame, detail }: FramedProps & { detail: UserDetail }) {
  const { user, memberOf, history, access, fields } = detail;
  return (
    <Page title={user.userName} chrome={chrome} frame={frame} tab="users">
      <p>
        <a href={frame.paths.users()}>← All users</a>
      </p>
      <h1>{user.userName}</h1>
      <section class="card" aria-labelledby="summary">
        <h2 id="summary">Summary</h2>
        <p>
          <UserBadges user={user} product={chrome.brand.product} />
        </p>
        <dl class="facts">
          <dt>Name</dt>
          <dd>{user.displayName ?? "—"}</dd>
          <dt>Email</dt>
          <dd>{user.email ?? "—"}</dd>
          <dt>Created</dt>
          <dd>
            <When at={user.createdAt} />
          </dd>
          <dt>Last changed</dt>
          <dd>
            <When at={user.updatedAt} />
          </dd>
          {user.adoptedAt !== null && (
            <>
              <dt>Adopted</dt>
              <dd>
                <When at={user.adoptedAt} /> (created in {chrome.brand.product}, then matched by the directory)
              </dd>
            </>
          )}
          <dt>Id</dt>
          <dd>
            <code>{user.id}</code>
          </dd>
        </dl>
      </section>
      <section class="card" aria-labelledby="access">
        <h2 id="access">Access in {chrome.brand.product}</h2>
        {access.length === 0 ? (
          <p class="muted">
            {user.active
              ? "No role: no group or app role of this user is mapped to one, and there is no default role."
              : "No role while the user is inactive."}
          </p>
        ) : (
          <ul>
            {access.map((role) => (
              <li>
                <strong>{role.name}</strong>, {reasonsInWords(role.reasons)}
              </li>
            ))}
          </ul>
        )}
        {fields.values.length > 0 && (
          <>
            <h3>Fields from the directory</h3>
            <dl class="facts">
              {fields.values.map(([key, value]) => (
                <>
                  <dt>{key}</dt>
                  <dd>{value === null ? "—" : String(value)}</dd>
                </>
              ))}
            </dl>
          </>
        )}
        {fields.errors.length > 0 && (
          <ul class="notice warn">
            {fields.errors.map((error) => (
              <li>
                {/* The SCIM path on demand, as change codes are: the sentence is for people. */}
                <strong title={error.path}>{error.key}</strong> is empty: the directory's value{" "}
                {MISFIT_WORDS[error.reason]}
                {error.reason === "too_long" ? "" : ` (it is ${FOUND_WORDS[error.found] ?? error.found})`}.
              </li>
            ))}
          </ul>
        )}
      </section>
      <section class="card" aria-labelledby="groups">
        <h2 id="groups">Groups</h2>
        {memberOf.length === 0 ? (
          <p class="muted">In no group.</p>
        ) : (
          <ul>
            {memberOf.map((group) => (
              <li>
                <a href={frame.paths.group(group.id)}>{group.displayName}</a>
              </li>
            ))}
          </ul>
        )}
      </section>
      <UserAttributes data={user.data} />
      <HistoryCard history={history} operator={frame.operator} />
    </Page>
  );
}

export function GroupsPage({ chrome, frame, list }: FramedProps & { list: Groups }) {
  return (
    <Page title="Groups" chrome={chrome} frame={frame} tab="groups">
      <h1>Groups</h1>
      <section class="card" aria-labelledby="group-list">
        <h2 id="group-list" class="visually-hidden">
          Group list
        </h2>
        {list.groups.length === 0 ? (
          <p class="muted">No groups yet. Groups arrive when they are assigned to the application in Entra.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Members</th>
                <th scope="col">Last changed</th>
              </tr>
            </thead>
            <tbody>
              {list.groups.map((group) => (
                <tr>
                  <td>
                    <a href={frame.paths.group(group.id)}>{group.displayName}</a>
                  </td>
                  <td>{group.memberCount}</td>
                  <td>
                    <When at={group.updatedAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {list.next && (
          <a class="button secondary" href={frame.paths.groups(query({ after: list.next }))}>
            Next page
          </a>
        )}
      </section>
    </Page>
  );
}

export function GroupPage({ chrome, frame, detail }: FramedProps & { detail: GroupDetail }) {
  const { group, members, next } = detail;
  return (
    <Page title={group.displayName} chrome={chrome} frame={frame} tab="groups">
      <p>
        <a href={frame.paths.groups()}>← All groups</a>
      </p>
      <h1>{group.displayName}</h1>
      <section class="card" aria-labelledby="members">
        <h2 id="members">{group.memberCount === 1 ? "1 member" : `${group.memberCount} members`}</h2>
        {members.length === 0 ? (
          <p class="muted">No members.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Username (UPN)</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {members.map((member) => (
                <tr>
                  <td>
                    <a href={frame.paths.user(member.id)}>{member.userName}</a>
                  </td>
                  <td>
                    <span class={`badge ${member.active ? "on" : "off"}`}>{member.active ? "Active" : "Inactive"}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {next && (
          <a class="button secondary" href={frame.paths.group(group.id, query({ after: next }))}>
            Next members
          </a>
        )}
      </section>
    </Page>
  );
}

interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  detail: Record<string, unknown> | null;
  /** The vendor's person who acted (the console's Access identity); given to operators only. */
  operator: string | null;
}

const ACTORS: Record<string, string> = {
  portal: "Customer admin",
  console: "Vendor (console)",
  admin: "Vendor (API)",
  cron: "Housekeeping",
};

/**
 * Who did what, said for people: the directory (a token), the customer's admin, the vendor. The customer reads the
 * vendor's console and API alike as its support; the vendor's operators see which, and who of them.
 */
function actorLabel(row: AuditRow, operator: boolean) {
  if (row.actor.startsWith("token:")) return "Directory (SCIM)";
  if (!operator && (row.actor === "console" || row.actor === "admin")) return "Vendor support";
  const label = ACTORS[row.actor] ?? row.actor;
  return row.operator ? `${label} · ${row.operator}` : label;
}

function HistoryCard({ history, operator }: { history: AuditRow[]; operator: boolean }) {
  return (
    <section class="card" aria-labelledby="history">
      <h2 id="history">History</h2>
      {history.length === 0 ? (
        <p class="muted">Nothing recorded.</p>
      ) : (
        <AuditTable rows={history} operator={operator} />
      )}
    </section>
  );
}

/**
 * Changes as sentences (ACTION_WORDS). For the vendor's viewer (`operator`, the frame's) the code each stands for is
 * beside it (the feed and the admin API name changes by it) and the vendor is named; the customer's admin gets the
 * code on demand, as the sentence's title.
 */
export function AuditTable({ rows, operator }: { rows: AuditRow[]; operator: boolean }) {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">What</th>
          <th scope="col">Who</th>
          <th scope="col">Changed</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr>
            <td>
              <When at={row.at} />
            </td>
            <td>
              {operator ? (
                <>
                  {actionWords(row.action)}
                  <small class="code">{row.action}</small>
                </>
              ) : (
                <span title={row.action}>{actionWords(row.action)}</span>
              )}
            </td>
            <td>{actorLabel(row, operator)}</td>
            <td>{changedOf(row.detail)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The attributes a change touched, when its audit row lists them: an attribute of an extension by its own name
 * (`…:User:department` → department), an extension as a whole by its name ("enterprise attributes"), the full URN
 * on hover, so a row stays readable and fits a phone's width.
 */
function changedOf(detail: Record<string, unknown> | null) {
  const changed = detail?.changed ?? detail?.attributes;
  if (!Array.isArray(changed)) return "";
  return changed.map((name, i) => {
    const full = String(name);
    return (
      <>
        {i > 0 && ", "}
        {full.startsWith("urn:") ? <abbr title={full}>{shortAttributeName(full)}</abbr> : full}
      </>
    );
  });
}

/** A schema's URN ends in its version and resource (`…:extension:enterprise:2.0:User`); an attribute's in its name. */
const SCHEMA_URN = /:extension:([^:]+):\d+(?:\.\d+)*:[A-Za-z]+$/;

function shortAttributeName(urn: string) {
  const extension = SCHEMA_URN.exec(urn)?.[1];
  return extension ? `${extension} attributes` : urn.slice(urn.lastIndexOf(":") + 1);
}

/** "through the group Engineering and the app role Approver", "by default". */
function reasonsInWords(reasons: AccessReason[]) {
  const words = reasons.map((reason) =>
    "group" in reason ? `the group ${reason.group}` : "appRole" in reason ? `the app role ${reason.appRole}` : null,
  );
  const named = words.filter((word) => word !== null);
  if (named.length === 0) return "by default";
  const list = named.length === 1 ? named[0] : `${named.slice(0, -1).join(", ")} and ${named.at(-1)}`;
  return `through ${list}`;
}
