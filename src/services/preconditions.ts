import type { ScimError } from "../scim/errors";
import { checkIfMatch, type EtagSet, namesVersions } from "../scim/preconditions";

/** A read-modify-write that loses the version race this many times answers 409 instead of spinning. */
export const MAX_WRITE_ATTEMPTS = 3;

/**
 * With If-Match naming versions, a write first reads the current version (one extra D1 call, only for clients that
 * ask) and is then conditional on it, so a change in between is a 412, never an overwrite. Without If-Match, or
 * with `*` (existence only, which the write itself finds out), there is nothing to read.
 */
export async function versionNamedBy(
  ifMatch: EtagSet | undefined,
  readVersion: () => Promise<number | undefined>,
  notFound: () => ScimError,
) {
  if (!namesVersions(ifMatch)) return undefined;
  const version = await readVersion();
  if (version === undefined) throw notFound();
  checkIfMatch(ifMatch, version);
  return version;
}
