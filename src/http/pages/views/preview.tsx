import type { Child } from "hono/jsx";
import { ActionForm, FormActions } from "./layout";

/** The first changes a mapping's preview lists (roles, fields): a row per change, the user and what it gets. */
export function PreviewTable({ column, rows }: { column: string; rows: { userName: string; change: Child }[] }) {
  if (rows.length === 0) return null;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">User</th>
          <th scope="col">{column}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr>
            <td>{row.userName}</td>
            <td>{row.change}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * Apply with exactly what was previewed: the form's fields again, and the version the preview was computed on (the
 * change's If-Match, so a mapping changed meanwhile is refused rather than applied unseen). Cancel goes back to the
 * form.
 */
export function ApplyPreviewed({
  action,
  csrf,
  fields,
  version,
}: {
  action: string;
  csrf: string;
  fields: [string, string][];
  version: number;
}) {
  return (
    <ActionForm action={action} csrf={csrf}>
      {fields.map(([field, value]) => (
        <input type="hidden" name={field} value={value} />
      ))}
      <input type="hidden" name="version" value={String(version)} />
      <FormActions submit="Apply" cancel={action} />
    </ActionForm>
  );
}
