import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import type { Brand } from "../brand";
import { type AreaPaths, consolePaths, portalPaths } from "../paths";

/** What every page's frame needs of its request (chromeOf): the script's nonce and the deployment's brand. */
export interface Chrome {
  nonce: string;
  brand: Brand;
}

/**
 * What the signed-in frame of a tenant's page needs: whose pages they are, where they live (the customer's portal
 * or the operator's console), where signing out goes, the way back, and the token its forms carry.
 */
export interface SessionFrame {
  tenantId: string;
  tenantName: string;
  paths: AreaPaths;
  operator: boolean;
  signOut: string;
  returnUrl: string | null;
  csrf: string;
}

/** The console's frame outside any tenant: the forms' token (signing out is the console's one path). */
export interface ConsoleFrame {
  csrf: string;
}

export type Tab = "integrations" | "users" | "groups" | "activity" | "guide" | "tenants";

interface PageProps {
  title: string;
  chrome: Chrome;
  frame?: SessionFrame;
  console?: ConsoleFrame;
  /** The tab of the signed-in navigation this page belongs to. */
  tab?: Tab;
  narrow?: boolean;
  children: Child;
}

/**
 * Every portal page: one stylesheet and one script from this worker (the script allowed by the page's nonce), in
 * the vendor's brand. The customer's pages name the product and the tenant in the title and the header, and end
 * with the vendor's support link; the console's are the vendor's own tool.
 */
export function Page({ title, chrome, frame, console: operator, tab, narrow, children }: PageProps) {
  const { brand } = chrome;
  const current = (name: Tab) => (tab === name ? "page" : undefined);
  const csrf = frame?.csrf ?? operator?.csrf;
  const signOut = frame?.signOut ?? (operator ? consolePaths.signOut : undefined);
  const forOperator = Boolean(frame?.operator || operator);
  const product = forOperator ? `${brand.name} console` : brand.name;
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="robots" content="noindex" />
          <title>{[title, frame?.tenantName, product].filter(Boolean).join(" · ")}</title>
          {brand.logo ? (
            <link rel="icon" href={portalPaths.logo} type={brand.logo.type} />
          ) : (
            <link rel="icon" href={portalPaths.icon} type="image/svg+xml" />
          )}
          <link rel="stylesheet" href={portalPaths.stylesheet} />
          <script src={portalPaths.script} nonce={chrome.nonce} defer />
        </head>
        <body>
          <a class="skip" href="#main">
            Skip to content
          </a>
          <header class="top">
            <div class="bar">
              <div class="brand">
                {brand.logo && <img src={portalPaths.logo} alt="" />}
                <span>
                  {product}
                  {frame && <small>{frame.tenantName}</small>}
                </span>
              </div>
              {forOperator && (
                <a class="button secondary" href={consolePaths.tenants()} aria-current={current("tenants")}>
                  All tenants
                </a>
              )}
              {frame?.returnUrl && (
                <a class="button secondary" href={frame.returnUrl}>
                  Back to {new URL(frame.returnUrl).host}
                </a>
              )}
              {signOut && csrf && (
                <form method="post" action={signOut}>
                  <input type="hidden" name="csrf" value={csrf} />
                  <button class="button link" type="submit">
                    Sign out
                  </button>
                </form>
              )}
            </div>
            {frame && (
              <nav class="tabs" aria-label={frame.operator ? "Tenant" : "Portal"}>
                {tabsOf(frame.paths).map(([name, href, label]) => (
                  <a href={href} aria-current={current(name)}>
                    {label}
                  </a>
                ))}
              </nav>
            )}
          </header>
          <main id="main" class={narrow ? "narrow" : undefined}>
            {children}
          </main>
          {brand.supportUrl && !forOperator && (
            <footer class="support">
              <p>
                Questions about this setup? <a href={brand.supportUrl}>Contact {brand.name} support</a>
              </p>
            </footer>
          )}
          <p id="copy-status" class="visually-hidden" aria-live="polite" />
        </body>
      </html>
    </>
  );
}

/** A tenant's navigation: each tab's name, address and label. */
const tabsOf = (paths: AreaPaths): [Tab, string, string][] => [
  ["integrations", paths.home, "Integrations"],
  ["users", paths.users(), "Users"],
  ["groups", paths.groups(), "Groups"],
  ["activity", paths.activity(), "Activity"],
  ["guide", paths.guide(), "Setup guide"],
];

/** The buttons that end a confirmation or form: do it, or go back without doing anything. */
export function FormActions({ submit, cancel, danger }: { submit: string; cancel: string; danger?: boolean }) {
  return (
    <div class="actions">
      <button class={danger ? "button danger" : "button"} type="submit">
        {submit}
      </button>
      <a class="button secondary" href={cancel}>
        Cancel
      </a>
    </div>
  );
}

/** One choice of a form: a radio button or checkbox with its label and, below it, what it means. */
export function Choice(props: {
  type: "radio" | "checkbox";
  name: string;
  value: string;
  checked?: boolean;
  label: string;
  hint?: string;
  /** A decorative mark before the label (a provider's). */
  icon?: Child;
}) {
  return (
    <label class="choice">
      <input type={props.type} name={props.name} value={props.value} checked={props.checked} />
      {props.icon}
      <span>
        {props.label}
        {props.hint && <small> {props.hint}</small>}
      </span>
    </label>
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

/** How long before `now` a moment was, in words ("5 min ago"), with the moment itself as When says it on hover. */
export function Ago({ at, now }: { at: number; now: number }) {
  const minutes = Math.floor((now - at) / 60_000);
  const hours = Math.floor(minutes / 60);
  const words =
    minutes < 1
      ? "just now"
      : minutes < 60
        ? `${minutes} min ago`
        : hours < 48
          ? `${hours} h ago`
          : `${Math.floor(hours / 24)} days ago`;
  return (
    <time datetime={new Date(at).toISOString()} title={`${DATE.format(at)} UTC`}>
      {words}
    </time>
  );
}
