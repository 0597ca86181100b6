import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import { portalPaths } from "../paths";

/** What the signed-in frame of a page needs: whose portal it is, the way back, and the token its forms carry. */
export interface SessionFrame {
  tenantId: string;
  tenantName: string;
  returnUrl: string | null;
  csrf: string;
}

interface PageProps {
  title: string;
  nonce: string;
  frame?: SessionFrame;
  /** The tab of the signed-in navigation this page belongs to. */
  tab?: "integrations" | "guide";
  narrow?: boolean;
  children: Child;
}

/** Every portal page: one stylesheet and one script from this worker (the script allowed by the page's nonce). */
export function Page({ title, nonce, frame, tab, narrow, children }: PageProps) {
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="robots" content="noindex" />
          <title>{`${title} · Directory sync`}</title>
          <link rel="icon" href={portalPaths.icon} type="image/svg+xml" />
          <link rel="stylesheet" href={portalPaths.stylesheet} />
          <script src={portalPaths.script} nonce={nonce} defer />
        </head>
        <body>
          <a class="skip" href="#main">
            Skip to content
          </a>
          <header class="top">
            <div class="bar">
              <div class="brand">
                Directory sync
                {frame && <small>{frame.tenantName}</small>}
              </div>
              {frame?.returnUrl && (
                <a class="button secondary" href={frame.returnUrl}>
                  Back to {new URL(frame.returnUrl).host}
                </a>
              )}
              {frame && (
                <form method="post" action={portalPaths.signOut(frame.tenantId)}>
                  <input type="hidden" name="csrf" value={frame.csrf} />
                  <button class="button link" type="submit">
                    Sign out
                  </button>
                </form>
              )}
            </div>
            {frame && (
              <nav class="tabs" aria-label="Portal">
                <a href={portalPaths.home(frame.tenantId)} aria-current={tab === "integrations" ? "page" : undefined}>
                  Integrations
                </a>
                <a href={portalPaths.guide(frame.tenantId)} aria-current={tab === "guide" ? "page" : undefined}>
                  Setup guide
                </a>
              </nav>
            )}
          </header>
          <main id="main" class={narrow ? "narrow" : undefined}>
            {children}
          </main>
          <p id="copy-status" class="visually-hidden" aria-live="polite" />
        </body>
      </html>
    </>
  );
}

/** A form that changes something: POST to this worker, with the session's CSRF token. */
export function ActionForm({ action, csrf, children }: { action: string; csrf: string; children: Child }) {
  return (
    <form method="post" action={action}>
      <input type="hidden" name="csrf" value={csrf} />
      {children}
    </form>
  );
}

/** A value to paste into the IdP: read-only, selectable, with a copy button that script reveals. */
export function CopyField({ id, label, value, hint }: { id: string; label: string; value: string; hint?: string }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <div class="copy">
        <input id={id} type="text" readonly value={value} spellcheck={false} autocomplete="off" />
        <button class="button secondary" type="button" data-copy={id} data-label={label} hidden>
          Copy
        </button>
      </div>
      {hint && <p class="hint">{hint}</p>}
    </div>
  );
}

const DATE = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });

/** A moment as people read it, in UTC (said so), with the exact instant for machines. */
export function When({ at }: { at: number }) {
  return <time datetime={new Date(at).toISOString()}>{`${DATE.format(at)} UTC`}</time>;
}
