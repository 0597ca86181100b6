import { portalPaths } from "../paths";
import { Page } from "./layout";

/**
 * The step between opening a link and using it: opening is a GET (mail scanners open links too), using it is this
 * form's POST. It names the tenant the link opens: someone's own unused link, opened in another person's browser,
 * would otherwise start a session in their account unnoticed (login CSRF), and its URL and token could end up in
 * the wrong Entra. The name tells the holder of the link nothing the link does not already open to them.
 */
export function ContinuePage({ nonce, csrf, tenantName }: { nonce: string; csrf: string; tenantName: string }) {
  return (
    <Page title="Set up directory sync" nonce={nonce} narrow>
      <div class="card">
        <h1>Set up directory sync</h1>
        <p>
          This link sets up directory sync for <strong>{tenantName}</strong>. Continue only if this is your
          organisation's account.
        </p>
        <p>
          It connects your identity provider (Microsoft Entra ID or Okta) to this product: Continue opens the account's
          integration settings.
        </p>
        <p class="muted">The link works once. After you continue, it cannot be used again.</p>
        <form method="post" action={portalPaths.sessions}>
          <input type="hidden" name="csrf" value={csrf} />
          <button class="button" type="submit">
            Continue
          </button>
        </form>
      </div>
    </Page>
  );
}

/**
 * A page that only says something: what happened, and where to go from here when there is somewhere. Every
 * refusal, expiry and sign-out of the portal and the console is one.
 */
function MessagePage({
  nonce,
  title,
  heading = title,
  message,
  link,
}: {
  nonce: string;
  title: string;
  heading?: string;
  message: string;
  link?: { href: string; label: string; primary?: boolean };
}) {
  return (
    <Page title={title} nonce={nonce} narrow>
      <div class="card">
        <h1>{heading}</h1>
        <p>{message}</p>
        {link && (
          <a class={link.primary ? "button" : "button secondary"} href={link.href}>
            {link.label}
          </a>
        )}
      </div>
    </Page>
  );
}

/** A used, expired or forged link, or a link cookie that is gone: the same page, naming no tenant. */
export const ExpiredLinkPage = ({ nonce }: { nonce: string }) =>
  MessagePage({
    nonce,
    title: "This link has expired",
    message:
      "Setup links work once, for a limited time: this one has been used already or has run out. Ask for a new one from the product that sent it to you (usually its settings page, or your account manager).",
  });

/** No live session for this tenant's pages: the same 404 whether the tenant exists or not. */
export const NoSessionPage = ({ nonce }: { nonce: string }) =>
  MessagePage({
    nonce,
    title: "Page not found",
    message:
      "This page does not exist, or your setup session has ended. Sessions last a few hours; open a new setup link from the product that sent you here.",
  });

export const SignedOutPage = ({ nonce, returnUrl }: { nonce: string; returnUrl: string | null }) =>
  MessagePage({
    nonce,
    title: "Signed out",
    heading: "You are signed out",
    message: "Your setup session has ended. To change the integration again, open a new setup link.",
    link: returnUrl ? { href: returnUrl, label: `Back to ${new URL(returnUrl).host}`, primary: true } : undefined,
  });

/**
 * A request the portal refused or could not complete, said plainly, with the way back when there is one: the main
 * button when it is where to go next (`onward`).
 */
export const ProblemPage = ({
  nonce,
  title,
  message,
  back,
  onward = false,
}: {
  nonce: string;
  title: string;
  message: string;
  back?: string;
  onward?: boolean;
}) =>
  MessagePage({
    nonce,
    title,
    message,
    link: back ? { href: back, label: "Back to the integration", primary: onward } : undefined,
  });
