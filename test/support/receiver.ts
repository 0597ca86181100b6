/**
 * A real HTTP receiver for webhook tests, started once in Node (vitest globalSetup) and reached by the worker over
 * the network as any vendor's endpoint would be. Each path `/hooks/<name>` is an endpoint whose behaviour the URL
 * sets: `?fail=N` answers the first N requests with `status` (default 500; `retryAfter` adds a Retry-After
 * header), `?redirect=1` answers 302; everything else gets 204. `GET /received/<name>` lists what arrived. Every
 * body is checked against its type's schema in the event registry (or the gap notice's, src/webhooks/skipped.ts),
 * as the admin API's feed pages are against the OpenAPI document.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as v from "valibot";
import { FeedEventSchema } from "../../src/events/registry";
import { SkippedEventsSchema } from "../../src/webhooks/skipped";

/** What a delivery may carry: a feed event, or the notice of events coalesced beyond the cap. */
const DeliveryBody = v.union([FeedEventSchema, SkippedEventsSchema]);

export interface Received {
  headers: Record<string, string>;
  body: string;
  answered: number;
  at: number;
}

let server: Server;
const received = new Map<string, Received[]>();
/** Deliveries whose body is not an event as the registry describes its type (the run fails at teardown). */
const malformed: string[] = [];

export async function setup({ provide }: { provide: (key: "receiverOrigin", value: string) => void }) {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://receiver");
    const [, kind, name = ""] = url.pathname.split("/");
    if (req.method === "GET" && kind === "received") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(received.get(name) ?? []));
      return;
    }
    // Bytes first, text at the end: a character split between chunks must not be mangled.
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const parsed = v.safeParse(DeliveryBody, parseJson(body));
      if (!parsed.success) malformed.push(`${body.slice(0, 300)}: ${v.summarize(parsed.issues)}`);
      const list = received.get(name) ?? [];
      const fail = Number(url.searchParams.get("fail") ?? 0);
      const answered = url.searchParams.get("redirect")
        ? 302
        : list.length < fail
          ? Number(url.searchParams.get("status") ?? 500)
          : 204;
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      list.push({ headers, body, answered, at: Date.now() });
      received.set(name, list);
      const retryAfter = url.searchParams.get("retryAfter");
      res.writeHead(answered, {
        ...(answered === 302 ? { location: "http://127.0.0.1:9/elsewhere" } : {}),
        ...(retryAfter && answered >= 400 ? { "retry-after": retryAfter } : {}),
      });
      res.end(answered >= 400 ? `refused by the test receiver (${answered})` : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  provide("receiverOrigin", `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

export async function teardown() {
  await new Promise((resolve) => server.close(resolve));
  if (malformed.length > 0)
    throw new Error(`Webhook deliveries not matching their event's schema:\n${malformed.join("\n")}`);
}

declare module "vitest" {
  export interface ProvidedContext {
    receiverOrigin: string;
  }
}
