import type { FailureFacts, FailureHint } from "../../../scim/failure-hints";
import type { AreaPaths } from "../paths";
import { When } from "./layout";

/** A failed request as the pages list it: what the log keeps of it, and its hint. */
type ShownFailure = FailureFacts & { at: number; count: number; hint: FailureHint };

/**
 * Failed requests, newest first, each with what went wrong, the request, what to do about it and, when it names a
 * user, the way to that user: the Activity page's list and each integration card's.
 */
export function FailureList({ rows, paths }: { rows: readonly ShownFailure[]; paths: AreaPaths }) {
  return (
    <ul class="failures">
      {rows.map((row) => (
        <li>
          <p>
            <strong>{row.hint.title}</strong>{" "}
            <span class="muted">
              {row.count > 1 ? `${row.count} times, last ` : ""}
              <When at={row.at} />
            </span>
          </p>
          <p>
            <code>
              {row.method} {row.path}
            </code>{" "}
            → {row.status}
            {row.scimType ? ` ${row.scimType}` : ""}
          </p>
          <p>{row.hint.advice}</p>
          {row.hint.name && (
            <p>
              <a href={paths.users(`?${new URLSearchParams({ search: row.hint.name })}`)}>
                Find “{row.hint.name}” among the users
              </a>
            </p>
          )}
        </li>
      ))}
    </ul>
  );
}
