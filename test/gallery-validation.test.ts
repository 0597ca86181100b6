/**
 * A local replay of the tests of Microsoft's gallery validation (the Azure Logic App "SCIM-Validation") that call
 * the SCIM endpoint directly, transcribed from ../shared/docs/entra-gallery.md, against a client-credentials
 * integration as Microsoft runs them against a gallery candidate: credentials, schema discoverability, null update,
 * user and group create and update, pagination, manager. Every one of them is mandatory (group pagination is
 * optional, and replayed too); the run fails unless the credentials test passes.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ENTRA_MAPPINGS } from "../src/scim/entra-mappings";
import { admin, scim, workerFetch } from "./support/http";
import { PATCH_OP } from "./support/scim";

const USER = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

let client: { base: string; token: string };

beforeAll(async () => {
  const tenant = await (
    await admin("POST", "/tenants", { body: { name: "Gallery candidate", integrationsEnabled: true } })
  ).json<{ id: string }>();
  const made = await (
    await admin("POST", `/tenants/${tenant.id}/integrations`, {
      body: { provider: "entra", authentication: "oauth_client_credentials" },
    })
  ).json<{ clientId: string; clientSecret: string; scimBaseUrl: string; tokenUrl: string }>();
  // Validate credentials: a token from the token endpoint, 60–360 minutes of lifetime, then a SCIM call with it.
  const res = await workerFetch(
    new Request(made.tokenUrl, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: made.clientId,
        client_secret: made.clientSecret,
        scope: "scim",
      }).toString(),
    }),
  );
  expect(res.status).toBe(200);
  const token = await res.json<{ access_token: string; expires_in: number }>();
  expect(token.expires_in).toBeGreaterThanOrEqual(60 * 60);
  expect(token.expires_in).toBeLessThanOrEqual(360 * 60);
  client = { base: new URL(made.scimBaseUrl).pathname, token: token.access_token };
});

const call = (method: string, path: string, body?: unknown) =>
  scim(client, method, path, body === undefined ? {} : { body });
const patch = (operations: unknown[]) => ({ schemas: [PATCH_OP], Operations: operations });

interface SchemaAttribute {
  name: string;
  type: string;
  multiValued: boolean;
  canonicalValues?: string[];
  subAttributes?: SchemaAttribute[];
}

/**
 * A schema's attributes as Microsoft's test names them: a complex one's sub-attributes as `name.givenName`; a
 * multi-valued one with a `type` sub-attribute as `emails[type eq "work"].value` for each canonical type (without
 * canonical values, `[primary eq "True"]`); an extension's as `<urn>:<name>`.
 */
function flatten(schemaId: string, attributes: SchemaAttribute[], core: boolean): string[] {
  const prefix = core ? "" : `${schemaId}:`;
  return attributes.flatMap((attribute) => {
    const name = `${prefix}${attribute.name}`;
    const subs = attribute.subAttributes ?? [];
    const type = subs.find((s) => s.name === "type");
    if (attribute.multiValued && type) {
      const selectors = type.canonicalValues?.map((v) => `type eq "${v}"`) ?? ['primary eq "True"'];
      return [name, ...selectors.flatMap((s) => subs.map((sub) => `${name}[${s}].${sub.name}`))];
    }
    return [name, ...subs.map((sub) => `${name}.${sub.name}`)];
  });
}

describe("Microsoft's gallery validation, the tests that call the endpoint directly", () => {
  it("schema discoverability: every attribute the default mappings target is in /Schemas, externalId included", async () => {
    const res = await call("GET", "/Schemas");
    expect(res.status).toBe(200);
    const body = await res.json<{ Resources: { id: string; attributes: SchemaAttribute[] }[] }>();
    const names = new Set(
      body.Resources.flatMap((s) => flatten(s.id, s.attributes, [USER, GROUP].includes(s.id))).map((n) =>
        n.toLowerCase(),
      ),
    );
    const userTargets = ENTRA_MAPPINGS.map(([, target]) => target);
    const groupTargets = ["displayName", "externalId", "members"];
    for (const target of [...userTargets, ...groupTargets]) expect(names, target).toContain(target.toLowerCase());
    // externalId in both core schemas, not only somewhere.
    for (const id of [USER, GROUP]) {
      const schema = body.Resources.find((s) => s.id === id);
      expect(
        schema?.attributes.map((a) => a.name),
        id,
      ).toContain("externalId");
    }
  });

  it("null update: optional attributes set to an empty string, then to null, read back empty", async () => {
    const created = await call("POST", "/Users", {
      schemas: [USER, ENTERPRISE],
      userName: `null-${crypto.randomUUID()}@contoso.com`,
      displayName: "Null Update",
      title: "Engineer",
      preferredLanguage: "en-US",
      name: { givenName: "Null", familyName: "Update", formatted: "Null Update" },
      [ENTERPRISE]: { department: "R&D" },
    });
    expect(created.status).toBe(201);
    const { id } = await created.json<{ id: string }>();
    const optional = [
      "displayName",
      "title",
      "preferredLanguage",
      "name.givenName",
      "name.familyName",
      `${ENTERPRISE}:department`,
    ];
    for (const value of ["", null]) {
      const res = await call("PATCH", `/Users/${id}`, patch(optional.map((path) => ({ op: "replace", path, value }))));
      expect([200, 204]).toContain(res.status);
      const user = await (await call("GET", `/Users/${id}`)).json<Record<string, unknown>>();
      const read = (path: string) =>
        path.startsWith(ENTERPRISE)
          ? (user[ENTERPRISE] as Record<string, unknown> | undefined)?.[path.slice(ENTERPRISE.length + 1)]
          : path.split(".").reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], user);
      for (const path of optional) expect([undefined, null, ""], `${path} after ${value}`).toContain(read(path));
    }
  });

  it("user create and update: every eligible single-valued attribute written reads back", async () => {
    const userName = `create-${crypto.randomUUID()}@contoso.com`;
    const created = await call("POST", "/Users", { schemas: [USER], userName, active: true });
    expect([200, 201]).toContain(created.status);
    const user = await created.json<{ id: string; userName: string }>();
    expect(user.id).not.toBe("");
    expect(user.userName).toBe(userName);
    const values = {
      displayName: "Updated Name",
      title: "Director",
      preferredLanguage: "de-DE",
      nickName: "upd",
      externalId: `ext-${crypto.randomUUID()}`,
      "name.givenName": "Up",
      "name.familyName": "Dated",
      [`${ENTERPRISE}:department`]: "Sales",
      [`${ENTERPRISE}:employeeNumber`]: "42",
    };
    const res = await call(
      "PATCH",
      `/Users/${user.id}`,
      patch(Object.entries(values).map(([path, value]) => ({ op: "replace", path, value }))),
    );
    expect([200, 204]).toContain(res.status);
    const read = await (await call("GET", `/Users/${user.id}`)).json<Record<string, Record<string, unknown>>>();
    expect(read).toMatchObject({
      displayName: "Updated Name",
      title: "Director",
      preferredLanguage: "de-DE",
      nickName: "upd",
      externalId: values.externalId,
      name: { givenName: "Up", familyName: "Dated" },
      [ENTERPRISE]: { department: "Sales", employeeNumber: "42" },
    });
  });

  it("group create and update", async () => {
    const displayName = `Group ${crypto.randomUUID()}`;
    const created = await call("POST", "/Groups", { schemas: [GROUP], displayName });
    expect([200, 201]).toContain(created.status);
    const group = await created.json<{ id: string; displayName: string }>();
    expect(group.displayName).toBe(displayName);
    const externalId = `ext-${crypto.randomUUID()}`;
    const res = await call(
      "PATCH",
      `/Groups/${group.id}`,
      patch([
        { op: "replace", path: "displayName", value: `${displayName} renamed` },
        { op: "replace", path: "externalId", value: externalId },
      ]),
    );
    expect([200, 204]).toContain(res.status);
    const read = await (await call("GET", `/Groups/${group.id}?excludedAttributes=members`)).json<object>();
    expect(read).toMatchObject({ displayName: `${displayName} renamed`, externalId });
  });

  it.each([
    ["Users", (i: number) => ({ schemas: [USER], userName: `page-${i}-${crypto.randomUUID()}@contoso.com` })],
    ["Groups", (i: number) => ({ schemas: [GROUP], displayName: `Page ${i} ${crypto.randomUUID()}` })],
  ])("%s pagination by startIndex and count, five a page", async (resource, body) => {
    for (let i = 0; i < 11; i++) expect((await call("POST", `/${resource}`, body(i))).status).toBe(201);
    for (const page of [0, 1, 2]) {
      const res = await call("GET", `/${resource}?startIndex=${page * 5 + 1}&count=5`);
      expect(res.status).toBe(200);
      const list = await res.json<{ startIndex: unknown; itemsPerPage: number; Resources: unknown[] }>();
      expect(list.startIndex).toBe(page * 5 + 1);
      expect(list.Resources.length).toBeLessThanOrEqual(5);
    }
  });

  it("manager: add, replace with another, replace with an empty value", async () => {
    const person = async (name: string) =>
      (
        await (
          await call("POST", "/Users", { schemas: [USER], userName: `${name}-${crypto.randomUUID()}@contoso.com` })
        ).json<{
          id: string;
        }>()
      ).id;
    const [report, first, second] = [await person("report"), await person("boss"), await person("other-boss")];
    const manager = async () =>
      (await (await call("GET", `/Users/${report}`)).json<Record<string, { manager?: { value?: string } }>>())[
        ENTERPRISE
      ]?.manager?.value ?? null;
    const set = (op: string, value: unknown) =>
      call("PATCH", `/Users/${report}`, patch([{ op, path: `${ENTERPRISE}:manager`, value }]));
    expect([200, 204]).toContain((await set("Add", first)).status);
    expect(await manager()).toBe(first);
    expect([200, 204]).toContain((await set("Replace", second)).status);
    expect(await manager()).toBe(second);
    expect([200, 204]).toContain((await set("Replace", "")).status);
    expect(await manager()).toBeNull();
  });
});
