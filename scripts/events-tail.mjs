#!/usr/bin/env node
// `npm run events:tail`: watch the change feed arrive as signed webhooks. Starts a receiver on 127.0.0.1, registers
// it with the local service (`npm run dev`, admin key from .dev.vars), verifies every delivery's signature with the
// `standardwebhooks` package, prints each event, and removes the registration on exit.
//
//   npm run events:tail [-- --url http://127.0.0.1:8787] [--tenant <id>] [--types user.created,group.members_added] [--json]
//
// Without --url it finds the running `npm run dev` by itself, whatever its port (scripts/lib/dev-origin.mjs).
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";
import { readDevOrigin } from "./lib/dev-origin.mjs";

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const service = option("url") ?? readDevOrigin() ?? "http://127.0.0.1:8787";
const tenant = option("tenant");
const types = option("types")?.split(",");
const asJson = args.includes("--json");
const adminKey = process.env.ADMIN_API_KEY ?? devVar("ADMIN_API_KEY");
if (!adminKey) fail("no ADMIN_API_KEY: run `npm run dev` first (it writes .dev.vars), or set ADMIN_API_KEY");

function devVar(name) {
  if (!existsSync(".dev.vars")) return undefined;
  return new RegExp(`^${name}=(.+)$`, "m").exec(readFileSync(".dev.vars", "utf8"))?.[1]?.trim();
}

function fail(message) {
  console.error(`events:tail: ${message}`);
  process.exit(1);
}

async function admin(method, path, body) {
  const res = await fetch(`${service}/admin${path}`, {
    method,
    headers: { Authorization: `Bearer ${adminKey}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((error) =>
    fail(`cannot reach ${service} (${error.cause?.code ?? error.message}); is \`npm run dev\` running?`),
  );
  if (!res.ok) fail(`${method} /admin${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

/** One line per event: its place in the tenant's feed, its type, and what it is about. */
function summary(event) {
  const { data } = event;
  const subject =
    data.user?.userName ??
    (data.group &&
      `${data.group.displayName ?? data.group.id}${data.members ? ` (${data.members.length} members)` : ""}`) ??
    data.tokenId ??
    data.tokenIds?.join(", ") ??
    "";
  const changed = data.changedAttributes ? ` [${data.changedAttributes.join(", ")}]` : "";
  return `#${event.sequence} ${event.type} ${subject}${changed}  (tenant ${event.tenantId})`;
}

let webhook;
const server = createServer((req, res) => {
  // Bytes first, text at the end: a character split between chunks must not be mangled.
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    try {
      const event = new Webhook(webhook.secret).verify(body, req.headers);
      console.log(asJson ? JSON.stringify(event, null, 2) : `✔ ${summary(event)}`);
      res.writeHead(204).end();
    } catch (error) {
      console.warn(`✘ a delivery failed verification (${error.message}); answered 400`);
      res.writeHead(400).end();
    }
  });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${server.address().port}/events`;
webhook = await admin("POST", "/webhooks", {
  url,
  ...(tenant ? { tenantIds: [tenant] } : {}),
  ...(types ? { eventTypes: types } : {}),
});
console.log(`Receiving on ${url} (webhook ${webhook.id}); signatures checked with standardwebhooks. Ctrl-C to stop.`);
console.log("Events fanned out from now on arrive here; earlier ones: POST /admin/webhooks/{id}/replay.");

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    await admin("DELETE", `/webhooks/${webhook.id}`).catch(() => {});
    server.close();
    process.exit(0);
  });
}
