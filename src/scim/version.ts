/** RFC 7644 §3.14 weak ETag of a resource: its stored version, which every write increments. */
export const weakEtag = (version: number) => `W/"${version}"`;
