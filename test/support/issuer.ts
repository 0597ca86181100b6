/**
 * A local token issuer's key publication for workload identity federation tests, started once in Node (vitest
 * globalSetup) and reached by the worker over loopback as it would reach Microsoft's login host. `PUT /jwks/<name>`
 * sets a JWKS (a test generates its keys and signs its assertions itself), `GET /jwks/<name>` serves it and counts
 * the fetch, `GET /fetches/<name>` says how many there were; `?down=1` on the PUT makes the GET fail from then on.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

let server: Server;
const sets = new Map<string, { body: string; down: boolean }>();
const fetches = new Map<string, number>();

export async function setup({ provide }: { provide: (key: "issuerOrigin", value: string) => void }) {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://issuer");
    const [, kind, name = ""] = url.pathname.split("/");
    if (kind === "fetches") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(fetches.get(name) ?? 0));
      return;
    }
    if (kind !== "jwks") {
      res.writeHead(404);
      res.end();
      return;
    }
    if (req.method === "PUT") {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        sets.set(name, { body: Buffer.concat(chunks).toString("utf8"), down: url.searchParams.has("down") });
        res.writeHead(204);
        res.end();
      });
      return;
    }
    fetches.set(name, (fetches.get(name) ?? 0) + 1);
    const set = sets.get(name);
    if (!set || set.down) {
      res.writeHead(503);
      res.end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(set.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  provide("issuerOrigin", `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

export async function teardown() {
  await new Promise((resolve) => server.close(resolve));
}

declare module "vitest" {
  export interface ProvidedContext {
    issuerOrigin: string;
  }
}
