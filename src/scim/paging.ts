import { badRequest } from "./errors";

/** Largest page served (advertised as `filter.maxResults`); bounds one query's rows and response size. */
export const MAX_PAGE_SIZE = 200;
/** Page size when the client names none. */
export const DEFAULT_PAGE_SIZE = 100;

export interface Page {
  startIndex: number;
  count: number;
}

/**
 * RFC 7644 §3.4.2.4: 1-based `startIndex` (below 1 means 1), `count` (negative means 0; 0 asks only for
 * `totalResults`), capped at the maximum page size. Non-numeric values are a client error.
 */
export function parsePage(startIndex: string | undefined, count: string | undefined): Page {
  const start = toInteger(startIndex, "startIndex") ?? 1;
  const size = toInteger(count, "count") ?? DEFAULT_PAGE_SIZE;
  return { startIndex: Math.max(1, start), count: Math.min(MAX_PAGE_SIZE, Math.max(0, size)) };
}

function toInteger(text: string | undefined, name: string) {
  if (text === undefined || text === "") return undefined;
  if (!/^-?\d{1,15}$/.test(text.trim())) throw badRequest("invalidValue", `${name} must be an integer.`);
  return Number(text);
}

export const LIST_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

export function listResponse(resources: unknown[], total: number, page: Page) {
  return {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults: total,
    startIndex: page.startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}
