#!/usr/bin/env node
// `npm run bench:move`: a tenant of BENCH_MOVE_USERS users in one group (as many memberships) moved from DATA_1 to
// DATA_2 while Entra-like connections keep matching, creating and updating users, retrying every 503 as Entra does.
// The move runs as in production: the admin API starts it, the tenant-moves queue carries its steps. Reported: how
// long the copy and catch-up took, the unavailable window (fence to switch) and what it verified, the writes made
// during the move and how many met the fence. Counts and durations of one local run, not a CI gate: every local D1
// database is a SQLite file in this one workerd process (docs/operations.md relates them to production).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BENCH_SECRETS, describeMachine, json, writeBenchConfigs, writeSection } from "./lib/bench-kit.mjs";
import { adminCall, d1, migrateLocal, startWorker } from "./lib/local-worker.mjs";

const USERS = Number(process.env.BENCH_MOVE_USERS ?? 100_000);
/** Entra's connections writing during the move. */
const WRITERS = 4;

const state = mkdtempSync(join(tmpdir(), "scim-move-"));
process.on("exit", () => rmSync(state, { recursive: true, force: true }));
const { main: config } = writeBenchConfigs(state);
migrateLocal(state, config);

// The tenant in the control database, and its directory in DATA_1: users, one group holding them all.
const tenantId = crypto.randomUUID();
const now = Date.now();
const seed = (name, text) => {
  const file = join(state, `${name}.sql`);
  writeFileSync(file, text);
  d1(state, ["execute", name, "--file", file], config);
};
seed(
  "DB",
  `INSERT INTO tenants (id, name, azure_ad_enabled, database, created_at, updated_at)
   VALUES ('${tenantId}', 'Moving bench', 1, 'DATA_1', ${now}, ${now});`,
);
seed(
  "DATA_1",
  `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ${USERS})
INSERT INTO users (id, tenant_id, user_name, user_name_key, external_id, managed_by, data, folded, created_at, updated_at)
SELECT 'mv-u' || n, '${tenantId}', 'user' || n || '@move.example', 'user' || n || '@move.example', 'ext' || n, 'azure-ad',
  json_object('userName', 'user' || n || '@move.example', 'externalId', 'ext' || n, 'active', json('true')),
  json_object('username', 'user' || n || '@move.example', 'externalid', 'ext' || n, 'active', json('true')),
  ${now} + n, ${now} + n FROM seq;
INSERT INTO groups (id, tenant_id, display_name, display_name_key, data, folded, created_at, updated_at)
VALUES ('mv-g', '${tenantId}', 'Everyone', 'everyone', json_object('displayName', 'Everyone'),
  json_object('displayname', 'everyone'), ${now}, ${now});
INSERT INTO group_members (tenant_id, group_id, member_id, created_at)
SELECT '${tenantId}', 'mv-g', id, ${now} FROM users WHERE tenant_id = '${tenantId}';`,
);

const key = BENCH_SECRETS.ADMIN_API_KEY;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const worker = await startWorker({ persistTo: state, config, vars: BENCH_SECRETS });
let result;
try {
  const { token } = await adminCall(worker.origin, key, "POST", `/tenants/${tenantId}/integrations/azure-ad`, {});
  const writes = { requests: 0, refused: 0 };
  /** A SCIM request as Entra sends it, retried on 503 (Entra waits minutes; 50 ms here keeps the count honest). */
  const entra = async (method, path, body) => {
    for (;;) {
      const res = await fetch(`${worker.origin}/scim/v2/${tenantId}${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, ...json },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      writes.requests++;
      if (res.status !== 503) return res;
      writes.refused++;
      await res.body?.cancel();
      await sleep(50);
    }
  };
  let moving = true;
  let created = 0;
  const writer = async () => {
    while (moving) {
      const n = ++created;
      const name = `new${n}@move.example`;
      await (await entra("GET", `/Users?filter=${encodeURIComponent(`userName eq "${name}"`)}`)).body?.cancel();
      const user = await (
        await entra("POST", "/Users", { userName: name, externalId: `new${n}`, active: true })
      ).json();
      const patch = { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [] };
      patch.Operations.push({ op: "Replace", path: "displayName", value: `New ${n}` });
      await (await entra("PATCH", `/Users/${user.id}`, patch)).body?.cancel();
    }
  };
  const writers = Array.from({ length: WRITERS }, writer);
  await sleep(500);
  const started = Date.now();
  await adminCall(worker.origin, key, "POST", `/tenants/${tenantId}/move`, { database: "DATA_2" });
  let move;
  for (;;) {
    const res = await fetch(`${worker.origin}/admin/tenants/${tenantId}`, {
      headers: { Authorization: `Bearer ${key}` },
    });
    move = res.ok ? (await res.json()).move : move;
    if (move?.phase === "settling") break;
    if (move?.state === "failed") throw new Error(`the move failed: ${JSON.stringify(move)}`);
    if (Date.now() - started > 15 * 60_000)
      throw new Error(`the move did not switch in 15 minutes: ${JSON.stringify(move)}`);
    await sleep(100);
  }
  moving = false;
  await Promise.all(writers);
  result = { move, writes, toSwitchMs: Date.parse(move.switchedAt) - started };
} finally {
  worker.stop();
}

const { move, writes, toSwitchMs } = result;
const v = move.verification;
const machine = describeMachine();
const rows = [
  "| measure | value |",
  "| --- | ---: |",
  `| users, memberships at the start | ${USERS.toLocaleString()}, ${USERS.toLocaleString()} |`,
  `| start to switch (copy, catch-up, window) | ${(toSwitchMs / 1000).toFixed(1)} s |`,
  `| unavailable window (fence to switch) | ${v.unavailableMs.toLocaleString()} ms |`,
  `| rows verified in the window (users, groups, memberships) | ${[v.tables.users.rows, v.tables.groups.rows, v.tables.group_members.rows].map((n) => n.toLocaleString()).join(", ")} |`,
  `| ranges repaired by the verification | ${v.repaired} |`,
  `| events caught up from the feed | ${(move.caughtUpThrough - move.startSequence).toLocaleString()} |`,
  `| Entra's requests during the move | ${writes.requests.toLocaleString()} |`,
  `| of them answered 503 by the fence (then retried) | ${writes.refused.toLocaleString()} |`,
].join("\n");
console.log(`\n${rows}\n\n${machine}`);

const section = `## Moving a tenant

Reproduce: \`npm run bench:move\` (\`BENCH_MOVE_USERS\`). A tenant of ${USERS.toLocaleString()} users in one group moves
from DATA_1 to DATA_2 through the admin API and the tenant-moves queue while ${WRITERS} connections run Entra's cycle
(match by userName, create, update), retrying each 503 after 50 ms. Machine: ${machine}.

${rows}

The window is the fence's final catch-up plus the verification, which reads every key and version of both sides
(docs/operations.md, "Moving a tenant"); locally both are SQLite files in one process, so its length here is what
the local simulator takes, not what D1 would.
`;
writeSection("Moving a tenant", section);
process.exit(0);
