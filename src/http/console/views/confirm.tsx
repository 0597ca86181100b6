import type { Child } from "hono/jsx";
import { ActionForm, type Chrome, FormActions, Page, type SessionFrame } from "../../pages/views/layout";

/**
 * The confirmation an operator's destructive action asks for (turning a tenant's provisioning off, moving its data,
 * ending its customer's sessions): what will happen, then the one form that does it. The action refuses a form that
 * did not come from here (`confirmed`), so no single click on the tenant's page changes anything irreversible.
 */
export function ConfirmPage({
  chrome,
  frame,
  title,
  consequence,
  detail,
  action,
  fields = {},
  submit,
  children,
}: {
  chrome: Chrome;
  frame: SessionFrame;
  title: string;
  consequence: string;
  detail: string;
  action: string;
  fields?: Record<string, string>;
  submit: string;
  children?: Child;
}) {
  return (
    <Page title={title} chrome={chrome} frame={frame} tab="integrations" narrow>
      <h1>{title}</h1>
      <div class="notice danger">
        <strong>{consequence}</strong>
        {detail}
      </div>
      <ActionForm action={action} csrf={frame.csrf}>
        <input type="hidden" name="confirmed" value="yes" />
        {Object.entries(fields).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        {children}
        <FormActions submit={submit} cancel={frame.paths.home} danger />
      </ActionForm>
    </Page>
  );
}
