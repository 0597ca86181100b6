// Small protocol rules with large consequences: error pairing, ETag preconditions, paging parameters.
import { describe, expect, it } from "vitest";
import { SCIM_TYPE_STATUS, ScimError, type ScimType } from "../../src/scim/errors";
import { parsePage } from "../../src/scim/paging";
import { checkIfMatch, namesVersions, parseEtags } from "../../src/scim/preconditions";
import { ERROR_SCHEMA } from "../support/scim";
import { expectScimError } from "./expect-scim-error";

describe("ScimError", () => {
  it.each(Object.keys(SCIM_TYPE_STATUS) as ScimType[])("%s brings its RFC 7644 §3.12 status", (scimType) => {
    const error = new ScimError(scimType, "x");
    expect(error.status).toBe(scimType === "uniqueness" ? 409 : 400);
    expect(error.toBody()).toEqual({
      schemas: [ERROR_SCHEMA],
      status: String(error.status),
      scimType,
      detail: "x",
    });
  });

  it("a status alone has no scimType in its body", () => {
    expect(new ScimError(412, "moved").toBody()).not.toHaveProperty("scimType");
  });
});

describe("ETag preconditions", () => {
  it.each([
    [undefined, undefined],
    ["*", "any"],
    [" * ", "any"],
    ['W/"3"', [3]],
    ['"1", W/"2"', [1, 2]],
    ["garbage", []],
  ])("parseEtags(%j) = %j", (header, expected) => {
    expect(parseEtags(header)).toEqual(expected);
  });

  it("If-Match names versions unless it is * or absent", () => {
    expect([undefined, "any", [], [3]].map((e) => namesVersions(e as never))).toEqual([false, false, true, true]);
  });

  it("checkIfMatch passes the named or any version and refuses others with 412", () => {
    expect(() => checkIfMatch(undefined, 3)).not.toThrow();
    expect(() => checkIfMatch("any", 3)).not.toThrow();
    expect(() => checkIfMatch([2, 3], 3)).not.toThrow();
    expect(() => checkIfMatch([2], 3)).toThrow(expect.objectContaining({ status: 412 }));
  });
});

describe("parsePage", () => {
  it.each([
    [undefined, undefined, { startIndex: 1, count: 100 }],
    ["0", "10", { startIndex: 1, count: 10 }],
    ["5", "-3", { startIndex: 5, count: 0 }],
    ["1", "100000", { startIndex: 1, count: 200 }],
    ["", "", { startIndex: 1, count: 100 }],
  ])("startIndex=%j count=%j", (startIndex, count, expected) => {
    expect(parsePage(startIndex, count)).toEqual(expected);
  });

  it.each([
    ["x", "1"],
    ["1", "1.5"],
  ])("refuses startIndex=%j count=%j", (startIndex, count) => {
    expectScimError(() => parsePage(startIndex, count), "invalidValue", "must be an integer");
  });
});
