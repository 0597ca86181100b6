import { portalPaths } from "../paths";
import { type Chrome, Page } from "./layout";

/**
 * The step between opening a link and using it: opening is a GET (mail scanners open links too), using it is this
 * form's POST. It names the tenant the link opens: someone's own unused link, opened in another person's browser,
 * would otherwise start a session in their account unnoticed (login CSRF), and its URL and token could end up in
 * the wrong Entra. The name tells the holder of the link nothing the link does not already open to them.
 */
export function ContinuePage({ chrome, csrf, tenantName }: { chrome: Chrome; csrf: string; tenantName: string }) {
  const { product } = chrome.brand;
  return (
    <Page title="Set up directory sync" chrome={chrome} narrow>
      <div class="card">
        <h1>Set up directory sync</h1>
        <p>
          This link sets up directory sync for <strong>{tenantName}</strong> in {product}. Continue only if this is your
          organisation's account.
        </p>
        <p>
          It connects your identity provider (Microsoft Entra ID, Okta or another) to {product}: Continue opens the
          account's integration settings.
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
  chrome,
  title,
  heading = title,
  message,
  link,
}: {
  chrome: Chrome;
  title: string;
  heading?: string;
  message: string;
  link?: { href: string; label: string; primary?: boolean };
}) {
  return (
    <Page title={title} chrome={chrome} narrow>
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
export const ExpiredLinkPage = ({ chrome }: { chrome: Chrome }) =>
  MessagePage({
    chrome,
    title: "This link has expired",
    message: `Setup links work once, for a limited time: this one has been used already or has run out. Ask for a new one in ${chrome.brand.product} (usually its settings page), or from your account manager.`,
  });

/** No live session for this tenant's pages: the same 404 whether the tenant exists or not. */
export const NoSessionPage = ({ chrome }: { chrome: Chrome }) =>
  MessagePage({
    chrome,
    title: "Page not found",
    message: `This page does not exist, or your setup session has ended. Sessions last a few hours; open a new setup link from ${chrome.brand.product}.`,
  });

export const SignedOutPage = ({ chrome, returnUrl }: { chrome: Chrome; returnUrl: string | null }) =>
  MessagePage({
    chrome,
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
  chrome,
  title,
  message,
  back,
  onward = false,
}: {
  chrome: Chrome;
  title: string;
  message: string;
  back?: string;
  onward?: boolean;
}) =>
  MessagePage({
    chrome,
    title,
    message,
    link: back ? { href: back, label: "Back to the integration", primary: onward } : undefined,
  });
