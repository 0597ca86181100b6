// Pure protocol transformations, table by table: POST/PUT bodies into stored documents, PATCH applied to a
// document, group PATCH as a membership delta, and attribute projection.
import { describe, expect, it } from "vitest";
import { prepareGroupDocument, splitGroupPatch } from "../../src/scim/groups";
import { applyPatch, type PatchOperation, parsePatchBody } from "../../src/scim/patch";
import { parseProjection, project } from "../../src/scim/projection";
import { normalizeResource } from "../../src/scim/resource-input";
import { GROUP_RESOURCE_TYPE, USER_RESOURCE_TYPE } from "../../src/scim/schema/resource-types";
import { ENTERPRISE, GROUP_SCHEMA, USER_SCHEMA } from "../support/scim";
import { expectScimError } from "./expect-scim-error";

const CUSTOM = "urn:ietf:params:scim:schemas:extension:Acme:2.0:User";
const GROUP_EXTENSION = "urn:ietf:params:scim:schemas:extension:Acme:2.0:Group";

describe("normalizeResource", () => {
  it.each([
    ["names in schema case", { USERNAME: "a", DisplayName: "A" }, { userName: "a", displayName: "A" }],
    [
      "server-owned and unknown attributes dropped",
      { userName: "a", id: "x", meta: {}, password: "p", foo: 1 },
      { userName: "a" },
    ],
    ["string booleans", { userName: "a", active: "False" }, { userName: "a", active: false }],
    ["nulls and empty arrays are unassigned", { userName: "a", title: null, emails: [] }, { userName: "a" }],
    [
      "flattened enterprise keys",
      { userName: "a", [`${ENTERPRISE}:department`]: "Ops" },
      { userName: "a", [ENTERPRISE]: { department: "Ops" } },
    ],
    [
      "custom extensions kept under their URN",
      { userName: "a", [CUSTOM]: { badge: 7 } },
      { userName: "a", [CUSTOM]: { badge: 7 } },
    ],
  ])("%s", (_, body, expected) => {
    expect(normalizeResource(body, USER_RESOURCE_TYPE)).toEqual(expected);
  });

  it.each([
    ["a body that is not an object", [], "invalidSyntax"],
    ["a value of the wrong type", { userName: "a", active: "maybe" }, "invalidValue"],
    ["an extension that is not an object", { userName: "a", [ENTERPRISE]: "Ops" }, "invalidValue"],
  ] as const)("refuses %s", (_, body, scimType) => {
    expectScimError(() => normalizeResource(body, USER_RESOURCE_TYPE), scimType);
  });
});

const patch = (doc: Record<string, unknown>, Operations: unknown[]) =>
  applyPatch(doc, parsePatchBody({ Operations }), USER_RESOURCE_TYPE);

describe("applyPatch", () => {
  const work = { type: "work", value: "a@x", primary: true };
  it.each([
    [
      "replace a simple attribute",
      { userName: "a" },
      [{ op: "replace", path: "title", value: "T" }],
      { userName: "a", title: "T" },
    ],
    ["remove one", { userName: "a", title: "T" }, [{ op: "remove", path: "title" }], { userName: "a" }],
    [
      "replace a sub-attribute, siblings kept",
      { name: { givenName: "A", familyName: "B" } },
      [{ op: "Replace", path: "name.familyName", value: "C" }],
      { name: { givenName: "A", familyName: "C" } },
    ],
    [
      "filtered path updates the matching element",
      { emails: [work, { type: "home", value: "h@x" }] },
      [{ op: "replace", path: 'emails[type eq "work"].value', value: "b@x" }],
      {
        emails: [
          { ...work, value: "b@x" },
          { type: "home", value: "h@x" },
        ],
      },
    ],
    [
      "filtered path that matches nothing creates the element it describes",
      { emails: [work] },
      [{ op: "add", path: 'emails[type eq "home"].value', value: "h@x" }],
      { emails: [work, { type: "home", value: "h@x" }] },
    ],
    [
      "clearing an element's value removes the element",
      { emails: [work] },
      [{ op: "remove", path: 'emails[type eq "work"].value' }],
      {},
    ],
    [
      "path-less keys are paths",
      { name: { givenName: "A" } },
      [{ op: "replace", value: { "name.familyName": "B", [`${ENTERPRISE}:department`]: "Ops", unknown: 1 } }],
      { name: { givenName: "A", familyName: "B" }, [ENTERPRISE]: { department: "Ops" } },
    ],
    [
      "add to a multi-valued attribute skips duplicates",
      { emails: [work] },
      [{ op: "add", path: "emails", value: [work, { type: "home", value: "h@x" }] }],
      { emails: [work, { type: "home", value: "h@x" }] },
    ],
    ["string booleans", { active: true }, [{ op: "Replace", path: "active", value: "False" }], { active: false }],
  ])("%s", (_, doc, operations, expected) => {
    expect(patch(doc, operations)).toEqual(expected);
  });

  it("leaves the stored document untouched", () => {
    const doc = { userName: "a" };
    patch(doc, [{ op: "replace", path: "userName", value: "b" }]);
    expect(doc).toEqual({ userName: "a" });
  });

  it.each([
    ["an unknown path", [{ op: "replace", path: "nickname2", value: "x" }], "invalidPath"],
    ["a read-only attribute", [{ op: "replace", path: "meta.created", value: "x" }], "mutability"],
    ["remove without a path", [{ op: "remove" }], "noTarget"],
    ["a filter on a simple attribute", [{ op: "replace", path: 'title[value eq "x"]', value: "y" }], "invalidPath"],
    ["an op that is not one", [{ op: "merge", path: "title", value: "x" }], "invalidSyntax"],
    [
      "a filter naming an unknown sub-attribute",
      [{ op: "replace", path: 'emails[colour eq "x"].value', value: "y" }],
      "invalidFilter",
    ],
  ] as const)("refuses %s", (_, operations, scimType) => {
    expectScimError(() => patch({ userName: "a" }, [...operations]), scimType);
  });
});

describe("splitGroupPatch", () => {
  const split = (operations: PatchOperation[]) => {
    const { attributes, members } = splitGroupPatch(operations);
    return { attributes, reset: members.reset, add: [...members.add], remove: [...members.remove] };
  };
  const none = { attributes: [], reset: false, add: [], remove: [] };
  it.each<[string, PatchOperation[], object]>([
    ["add members", [{ op: "add", path: "members", value: [{ value: "u1" }, { value: "u2" }] }], { add: ["u1", "u2"] }],
    [
      "Entra's remove with a value array",
      [{ op: "remove", path: "members", value: [{ value: "u1" }] }],
      { remove: ["u1"] },
    ],
    ["remove by filter", [{ op: "remove", path: 'members[value eq "u1" or value eq "u2"]' }], { remove: ["u1", "u2"] }],
    ["remove all", [{ op: "remove", path: "members" }], { reset: true }],
    ["replace the set", [{ op: "replace", path: "members", value: [{ value: "u3" }] }], { reset: true, add: ["u3"] }],
    [
      "a later op wins for the same member",
      [
        { op: "add", path: "members", value: [{ value: "u1" }] },
        { op: "remove", path: 'members[value eq "u1"]' },
      ],
      { remove: ["u1"] },
    ],
    [
      "attribute operations go to the document",
      [{ op: "replace", path: "displayName", value: "New" }],
      { attributes: [{ op: "replace", path: "displayName", value: "New" }] },
    ],
    [
      "a path-less value is split: members to the delta, the rest to the document",
      [{ op: "add", value: { Members: [{ value: "u1" }], externalId: "e1" } }],
      { attributes: [{ op: "add", value: { externalId: "e1" } }], add: ["u1"] },
    ],
    [
      "a path-less key naming the core members by URN goes to the delta",
      [{ op: "add", value: { [`${GROUP_SCHEMA}:members`]: [{ value: "u2" }] } }],
      { add: ["u2"] },
    ],
    [
      "an extension attribute named members is an attribute",
      [{ op: "add", path: `${GROUP_EXTENSION}:members`, value: "x" }],
      { attributes: [{ op: "add", path: `${GROUP_EXTENSION}:members`, value: "x" }] },
    ],
    ["no operations", [], {}],
  ])("%s", (_, operations, expected) => {
    expect(split(operations)).toEqual({ ...none, ...expected });
  });

  it.each<[string, PatchOperation[], "invalidValue" | "invalidPath" | "invalidFilter"]>([
    ["a group as a member", [{ op: "add", path: "members", value: [{ value: "g", type: "Group" }] }], "invalidValue"],
    ["a member without a value", [{ op: "add", path: "members", value: [{ display: "x" }] }], "invalidValue"],
    ["adding by filter", [{ op: "add", path: 'members[value eq "u1"]', value: [] }], "invalidPath"],
    ["a member sub-attribute path", [{ op: "replace", path: "members.value", value: "x" }], "invalidPath"],
    ["selecting members by anything but the id", [{ op: "remove", path: 'members[display eq "x"]' }], "invalidFilter"],
  ])("refuses %s", (_, operations, scimType) => {
    expectScimError(() => splitGroupPatch(operations), scimType);
  });

  it("bounds the members one request may name", () => {
    const value = Array.from({ length: 1001 }, (_, i) => ({ value: `u${i}` }));
    expectScimError(() => splitGroupPatch([{ op: "add", path: "members", value }]), "invalidValue", "At most 1000");
  });
});

describe("a group's attributes under PATCH", () => {
  const patched = (operations: PatchOperation[]) =>
    prepareGroupDocument(
      applyPatch(
        { displayName: "Sales", externalId: "e" },
        splitGroupPatch(operations).attributes,
        GROUP_RESOURCE_TYPE,
      ),
    ).doc;

  it.each<[string, PatchOperation[], object]>([
    ["rename", [{ op: "replace", path: "displayName", value: "New" }], { displayName: "New", externalId: "e" }],
    [
      "remove an optional attribute, many times over",
      Array(60).fill({ op: "remove", path: "externalId" }),
      { displayName: "Sales" },
    ],
    [
      "an extension path addresses the extension, never the core",
      [{ op: "replace", path: `${GROUP_EXTENSION}:displayName`, value: "Ext" }],
      { displayName: "Sales", externalId: "e", [GROUP_EXTENSION]: { displayName: "Ext" } },
    ],
    [
      "removing an extension attribute leaves the core alone",
      [{ op: "remove", path: `${GROUP_EXTENSION}:displayName` }],
      { displayName: "Sales", externalId: "e" },
    ],
  ])("%s", (_, operations, expected) => {
    expect(patched(operations)).toEqual(expected);
  });

  it("refuses to remove or empty the required displayName", () => {
    expectScimError(() => patched([{ op: "remove", path: "displayName" }]), "invalidValue", "displayName is required");
    expectScimError(() => patched([{ op: "replace", path: "displayName", value: "" }]), "invalidValue");
  });
});

describe("project", () => {
  const resource = {
    schemas: [USER_SCHEMA],
    id: "1",
    userName: "a",
    name: { givenName: "A", familyName: "B" },
    emails: [
      { type: "work", value: "a@x" },
      { type: "home", value: "h@x" },
    ],
    meta: { resourceType: "User" },
  };
  const shown = (attributes?: string, excluded?: string) =>
    project(resource, parseProjection(USER_RESOURCE_TYPE, attributes, excluded));

  it.each([
    ["nothing asked: everything", undefined, undefined, resource],
    [
      "attributes: schemas and id always come",
      "userName",
      undefined,
      { schemas: resource.schemas, id: "1", userName: "a" },
    ],
    [
      "a sub-attribute",
      "name.familyName",
      undefined,
      { schemas: resource.schemas, id: "1", name: { familyName: "B" } },
    ],
    [
      "an element filter",
      'emails[type eq "work"]',
      undefined,
      { schemas: resource.schemas, id: "1", emails: [{ type: "work", value: "a@x" }] },
    ],
    ["excluded attributes", undefined, "emails,name,meta", { schemas: resource.schemas, id: "1", userName: "a" }],
    ["id cannot be excluded", undefined, "id", { ...resource }],
  ])("%s", (_, attributes, excluded, expected) => {
    expect(shown(attributes, excluded)).toEqual(expected);
  });

  it("refuses a name that is no attribute", () => {
    expectScimError(() => parseProjection(USER_RESOURCE_TYPE, "nickname2"), "invalidValue", "names no attribute");
    expectScimError(() => parseProjection(GROUP_RESOURCE_TYPE, undefined, "userName"), "invalidValue");
  });
});
