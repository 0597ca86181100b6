// The peer for `npm run bench:peer`: SCIMMY + scimmy-routers on Node (express), backed by SQLite (node:sqlite),
// with the same users as our benchmark tenant. Installed into a temporary folder by scripts/bench-peer.mjs; not a
// dependency of the project. Lookups by id, userName and externalId use SQLite indexes, as ours use D1's;
// any other filter falls back to SCIMMY's in-memory matching over all users (SCIMMY's own model).
import { randomUUID } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";

const TOKEN = process.env.TOKEN ?? "T";
const PORT = Number(process.env.PORT ?? 18788);
const USERS = Number(process.env.SEED ?? 0);

const db = new DatabaseSync(process.env.DB_FILE ?? ":memory:");
db.exec("PRAGMA journal_mode = WAL");
db.exec(`CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, user_name_key TEXT NOT NULL UNIQUE, external_id TEXT, data TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS users_external_id ON users (external_id);`);
const insert = db.prepare("INSERT INTO users (id, user_name_key, external_id, data) VALUES (?, ?, ?, ?)");
const now = new Date().toISOString();
// One transaction for the seed, as a bulk load would be.
db.exec("BEGIN");
for (let n = 1; n <= USERS; n++) {
  const user = {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
    id: `peer-u${n}`,
    userName: `user${n}@Bench.Example`,
    externalId: `ext${n}`,
    displayName: `User ${n}`,
    emails: [{ type: "work", value: `user${n}@bench.example` }],
    meta: { created: now, lastModified: now },
  };
  insert.run(user.id, user.userName.toLowerCase(), user.externalId, JSON.stringify(user));
}
db.exec("COMMIT");

const byId = db.prepare("SELECT data FROM users WHERE id = ?");
const byUserName = db.prepare("SELECT data FROM users WHERE user_name_key = ?");
const byExternalId = db.prepare("SELECT data FROM users WHERE external_id = ?");
const all = db.prepare("SELECT data FROM users");
const upsert = db.prepare(
  "INSERT INTO users (id, user_name_key, external_id, data) VALUES (@id, @key, @externalId, @data) " +
    "ON CONFLICT (id) DO UPDATE SET user_name_key = @key, external_id = @externalId, data = @data",
);
const remove = db.prepare("DELETE FROM users WHERE id = ?");
const parse = (rows) => rows.map((r) => JSON.parse(r.data));

/** A single `eq` on an indexed attribute goes to SQLite; anything else is SCIMMY's in-memory match. */
function indexedLookup(filter) {
  if (filter?.length !== 1) return undefined;
  const entries = Object.entries(filter[0]);
  if (entries.length !== 1) return undefined;
  const [attribute, [op, value]] = entries[0];
  if (op !== "eq" || typeof value !== "string") return undefined;
  if (attribute.toLowerCase() === "username") return parse(byUserName.all(value.toLowerCase()));
  if (attribute.toLowerCase() === "externalid") return parse(byExternalId.all(value));
  return undefined;
}

SCIMMY.Resources.declare(SCIMMY.Resources.User)
  .egress(async (resource) => {
    if (resource.id) {
      const row = byId.get(resource.id);
      if (!row) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
      return JSON.parse(row.data);
    }
    const indexed = indexedLookup(resource.filter);
    if (indexed) return indexed;
    const users = parse(all.all());
    return resource.filter ? resource.filter.match(users) : users;
  })
  .ingress(async (resource, instance) => {
    const now = new Date().toISOString();
    const previous = resource.id ? byId.get(resource.id) : undefined;
    if (resource.id && !previous) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
    const id = resource.id ?? randomUUID();
    const created = previous ? JSON.parse(previous.data).meta.created : now;
    const user = { ...JSON.parse(JSON.stringify(instance)), id, meta: { created, lastModified: now } };
    try {
      upsert.run({
        id,
        key: String(user.userName).toLowerCase(),
        externalId: user.externalId ?? null,
        data: JSON.stringify(user),
      });
    } catch (error) {
      if (String(error).includes("UNIQUE")) throw new SCIMMY.Types.Error(409, "uniqueness", "userName already in use");
      throw error;
    }
    return user;
  })
  .degress(async (resource) => {
    if (remove.run(resource.id).changes === 0)
      throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
  });

const app = express();
app.use(
  "/scim/v2",
  new SCIMMYRouters({
    type: "bearer",
    handler: (req) => {
      if (req.header("Authorization") !== `Bearer ${TOKEN}`) throw new Error("Authorization failed");
      return "bench";
    },
  }),
);
app.listen(PORT, "127.0.0.1", () => console.log(`peer ready on ${PORT}`));
