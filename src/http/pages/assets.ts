/**
 * The portal's stylesheet and script, served by the worker itself (no CDN, no build step): a strict CSP allows
 * styles from this origin only and scripts only with the page's nonce. Kept as strings in a module because the
 * worker bundles TypeScript only; both are small enough to read here.
 */

// Colours meet WCAG AA contrast (4.5:1 for text) against their backgrounds; layout is one column below 720px.
export const PORTAL_CSS = `
:root {
  --ink: #1b2330; --muted: #4f5b6d; --line: #d6dce5; --paper: #ffffff; --wash: #f4f6f9;
  --ok: #176b3a; --ok-wash: #e5f4ea; --warn: #7a4b00; --warn-wash: #fff4dc;
  --danger: #b3261e; --danger-wash: #fdecea; --focus: #1a73e8;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--wash);
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; }
a { color: var(--brand); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 1rem; top: 1rem; background: var(--paper); padding: .5rem 1rem; z-index: 10; }
header.top { background: var(--paper); border-top: 4px solid var(--accent); border-bottom: 1px solid var(--line); }
.bar { max-width: 64rem; margin: 0 auto; padding: .75rem 1.25rem; display: flex; gap: 1rem; align-items: center;
  flex-wrap: wrap; }
.brand { font-weight: 700; margin-right: auto; display: flex; align-items: center; gap: .65rem; min-width: 0; }
.brand img { height: 2rem; width: auto; max-width: 8rem; flex: none; }
.brand span { min-width: 0; overflow-wrap: anywhere; }
.brand small { display: block; font-weight: 400; color: var(--muted); font-size: .85rem; }
nav.tabs { max-width: 64rem; margin: 0 auto; padding: 0 1.25rem; display: flex; flex-wrap: wrap; gap: 0 .25rem; }
nav.tabs a { padding: .6rem .9rem; text-decoration: none; color: var(--muted); border-bottom: 3px solid transparent; }
nav.tabs a[aria-current="page"] { color: var(--ink); border-bottom-color: var(--brand); font-weight: 600; }
/* A 60-character UPN or a group's long name has no space to wrap at: it breaks where it must, never widens the page. */
main { max-width: 64rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; overflow-wrap: anywhere; }
main.narrow { max-width: 36rem; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0 0 1rem; }
h2 { font-size: 1.2rem; margin: 0 0 .75rem; }
h3 { font-size: 1rem; margin: 1.25rem 0 .5rem; }
p { margin: 0 0 1rem; }
.card { background: var(--paper); border: 1px solid var(--line); border-radius: 10px; padding: 1.25rem 1.5rem;
  margin-bottom: 1.25rem; }
.card-head { display: flex; align-items: center; gap: .75rem; flex-wrap: wrap; margin-bottom: 1rem; }
.card-head h2 { margin: 0; margin-right: auto; }
.provider-icon { width: 2.25rem; height: 2.25rem; flex: none; }
.choice .provider-icon { width: 1.5rem; height: 1.5rem; }
.badge { display: inline-block; padding: .15rem .6rem; border-radius: 999px; font-size: .85rem; font-weight: 600; }
.badge.on { background: var(--ok-wash); color: var(--ok); }
.badge.off { background: var(--wash); color: var(--muted); border: 1px solid var(--line); }
.badge.warn { background: var(--warn-wash); color: var(--warn); border: 1px solid #f0d28f; }
.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(9.5rem, 1fr)); gap: .75rem; margin: 0 0 1rem; }
.stats div { background: var(--wash); border-radius: 8px; padding: .75rem 1rem; }
.stats dt { color: var(--muted); font-size: .85rem; }
.stats dd { margin: 0; font-size: 1.35rem; font-weight: 650; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .4rem 1.25rem; margin: 0 0 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.notice { border-radius: 8px; padding: .85rem 1rem; margin: 0 0 1rem; border: 1px solid; }
.notice.warn { background: var(--warn-wash); color: var(--warn); border-color: #f0d28f; }
.notice.ok { background: var(--ok-wash); color: var(--ok); border-color: #a8d5b8; }
.notice.danger { background: var(--danger-wash); color: var(--danger); border-color: #f2b8b5; }
.notice strong { display: block; }
.actions { display: flex; gap: .75rem; flex-wrap: wrap; align-items: center; margin-top: 1.25rem; }
.button { display: inline-block; font: inherit; font-weight: 600; padding: .6rem 1.1rem; border-radius: 8px;
  border: 1px solid var(--brand); background: var(--accent); color: var(--on-accent); text-decoration: none;
  cursor: pointer; }
.button.secondary { background: var(--paper); color: var(--brand); }
.button.danger { background: var(--danger); border-color: var(--danger); color: #fff; }
.button.link { background: none; border: none; color: var(--brand); padding: .6rem .25rem; text-decoration: underline; }
.field { margin-bottom: 1rem; }
.field label, fieldset legend, label.field > span { display: block; font-weight: 600; margin-bottom: .35rem; }
label.field { display: block; }
label.field input { width: 100%; box-sizing: border-box; }
label.field small { display: block; color: var(--muted); font-size: .9rem; margin-top: .25rem; }
.copy { display: flex; gap: .5rem; }
.copy input { flex: 1; min-width: 0; font: .95rem/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  padding: .55rem .7rem; border: 1px solid var(--line); border-radius: 8px; background: var(--wash); color: var(--ink); }
.hint { color: var(--muted); font-size: .9rem; margin-top: .35rem; }
fieldset { border: none; padding: 0; margin: 0 0 1rem; }
.choice { display: flex; gap: .6rem; align-items: flex-start; padding: .6rem .75rem; border: 1px solid var(--line);
  border-radius: 8px; margin-bottom: .5rem; background: var(--paper); }
.choice input { margin-top: .3rem; }
.choice span { display: block; }
.choice small { display: block; color: var(--muted); }
select, input[type="search"], input[type="password"], input[type="text"] { font: inherit; padding: .5rem .65rem;
  border: 1px solid #8a94a6; border-radius: 8px; background: var(--paper); color: var(--ink); }
.search { margin-bottom: 1rem; }
.filters { display: flex; flex-wrap: wrap; gap: 0 1rem; align-items: flex-end; }
.filters .field { margin-bottom: .5rem; }
.filters .button { margin-bottom: .5rem; }
pre.document { background: var(--wash); border-radius: 8px; padding: 1rem; overflow-x: auto; margin: 0;
  font: .85rem/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
details summary { cursor: pointer; color: var(--brand); margin: .25rem 0 .75rem; }
ul.failures { list-style: none; padding: 0; margin: 0; }
ul.failures li { border-top: 1px solid var(--line); padding: .75rem 0; }
ul.failures li:first-child { border-top: none; padding-top: 0; }
ul.failures p { margin: 0 0 .35rem; }
.button[disabled] { opacity: .55; cursor: not-allowed; }
ol.steps { padding-left: 1.25rem; }
ol.steps li { margin-bottom: .6rem; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1rem; font-size: .95rem; }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top;
  overflow-wrap: anywhere; }
td small.code { display: block; color: var(--muted); font: .8rem/1.3 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
th { color: var(--muted); font-weight: 600; }
td:first-child code { white-space: nowrap; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; background: var(--wash);
  padding: .05rem .3rem; border-radius: 4px; overflow-wrap: anywhere; }
.muted { color: var(--muted); }
footer.support { max-width: 64rem; margin: 0 auto; padding: 0 1.25rem 2rem; color: var(--muted); }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
@media (max-width: 720px) {
  .card { padding: 1rem; }
  nav.tabs { padding: 0 .5rem; }
  nav.tabs a { padding: .5rem .6rem; }
  dl.facts { grid-template-columns: 1fr; gap: 0; }
  dl.facts dd { margin-bottom: .6rem; }
  .copy { flex-direction: column; }
  .actions .button { width: 100%; text-align: center; }
  table, thead, tbody, tr, th, td { display: block; }
  thead { position: absolute; left: -9999px; }
  td { border: none; padding: .2rem 0; }
  tr { border-bottom: 1px solid var(--line); padding: .5rem 0; }
}
`;

/**
 * Copy buttons, the one thing that needs script, and a guard against sending a form twice (a double click on
 * Continue or Apply; the server refuses a repeated regeneration on its own, see RegeneratePage). Copy buttons: they are rendered hidden and shown here, so a page without script
 * never offers a button that does nothing. The result is announced through the page's live region.
 */
export const PORTAL_JS = `
for (const form of document.querySelectorAll("form")) {
  form.addEventListener("submit", (event) => {
    if (form.dataset.sent) event.preventDefault();
    form.dataset.sent = "1";
  });
}
// A page restored from the back/forward cache may be used again.
addEventListener("pageshow", (event) => {
  if (event.persisted) for (const form of document.forms) delete form.dataset.sent;
});
for (const button of document.querySelectorAll("button[data-copy]")) {
  button.hidden = false;
  button.addEventListener("click", async () => {
    const field = document.getElementById(button.dataset.copy);
    const status = document.getElementById("copy-status");
    try {
      await navigator.clipboard.writeText(field.value);
      status.textContent = button.dataset.label + " copied to the clipboard.";
      button.textContent = "Copied";
    } catch {
      field.select();
      status.textContent = "Copying is blocked here: the value is selected, press Ctrl+C or Cmd+C.";
    }
  });
}
`;
