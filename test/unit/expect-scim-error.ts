import { expect } from "vitest";
import { ScimError, type ScimType } from "../../src/scim/errors";

/** Runs `fn` and expects the protocol error a route would answer with: this scimType, a detail containing `detail`. */
export function expectScimError(fn: () => unknown, scimType: ScimType, detail = "") {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ScimError);
  expect((thrown as ScimError).scimType).toBe(scimType);
  expect((thrown as ScimError).message).toContain(detail);
}
