import { portalPaths } from "../paths";
import { Page } from "./layout";

/**
 * The step between opening a link and using it: opening is a GET (mail scanners open links too), using it is this
 * form's POST. Nothing of the tenant is shown before the link is used.
 */
export function ContinuePage({ nonce, csrf }: { nonce: string; csrf: string }) {
  return (
    <Page title="Set up directory sync" nonce={nonce} narrow>
      <div class="card">
        <h1>Set up directory sync</h1>
        <p>
          You were sent a one-time link to connect your identity provider (Microsoft Entra ID or Okta) to this product.
          Continue to open your account's integration settings.
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

/** A used, expired or forged link, or a link cookie that is gone: the same page, naming no tenant. */
export function ExpiredLinkPage({ nonce }: { nonce: string }) {
  return (
    <Page title="This link has expired" nonce={nonce} narrow>
      <div class="card">
        <h1>This link has expired</h1>
        <p>
          Setup links work once, for a limited time: this one has been used already or has run out. Ask for a new one
          from the product that sent it to you (usually its settings page, or your account manager).
        </p>
      </div>
    </Page>
  );
}

/** No live session for this tenant's pages: the same 404 whether the tenant exists or not. */
export function NoSessionPage({ nonce }: { nonce: string }) {
  return (
    <Page title="Page not found" nonce={nonce} narrow>
      <div class="card">
        <h1>Page not found</h1>
        <p>
          This page does not exist, or your setup session has ended. Sessions last a few hours; open a new setup link
          from the product that sent you here.
        </p>
      </div>
    </Page>
  );
}

export function SignedOutPage({ nonce, returnUrl }: { nonce: string; returnUrl: string | null }) {
  return (
    <Page title="Signed out" nonce={nonce} narrow>
      <div class="card">
        <h1>You are signed out</h1>
        <p>Your setup session has ended. To change the integration again, open a new setup link.</p>
        {returnUrl && (
          <a class="button" href={returnUrl}>
            Back to {new URL(returnUrl).host}
          </a>
        )}
      </div>
    </Page>
  );
}

/** A request the portal refused or could not complete, said plainly, with the way back when there is one. */
export function ProblemPage({
  nonce,
  title,
  message,
  back,
}: {
  nonce: string;
  title: string;
  message: string;
  back?: string;
}) {
  return (
    <Page title={title} nonce={nonce} narrow>
      <div class="card">
        <h1>{title}</h1>
        <p>{message}</p>
        {back && (
          <a class="button secondary" href={back}>
            Back to the integration
          </a>
        )}
      </div>
    </Page>
  );
}
