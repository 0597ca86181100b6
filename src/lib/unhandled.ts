/**
 * The default of a switch over a closed union (event types, relay effects, queue messages): `value` is `never` when
 * every member was handled, so a member added later fails to compile here instead of falling through at run time.
 */
export function unhandled(value: never): never {
  throw new Error(`Unhandled case: ${JSON.stringify(value)}`);
}
