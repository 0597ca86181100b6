import ipaddr from "ipaddr.js";

/** What the deployment lets endpoint URLs do beyond the defaults (services/webhooks.ts reads it from the vars). */
export interface EndpointUrlPolicy {
  /** WEBHOOKS_ALLOW_HTTP: loopback hosts accepted, over http:// too and on any port (local receivers). */
  allowHttp: boolean;
  /** WEBHOOK_ALLOWED_PORTS: ports accepted besides the scheme's default. */
  allowedPorts: readonly number[];
}

/**
 * WEBHOOK_ALLOWED_PORTS, comma-separated. An entry that is not a port (1–65535) is ignored rather than failing every
 * registration and delivery: the URLs that needed it are refused, with a message naming the variable.
 */
export const allowedPorts = (text: string | undefined): number[] =>
  (text ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => /^\d{1,5}$/.test(entry))
    .map(Number)
    .filter((port) => port >= 1 && port <= 65_535);

/**
 * Which URLs a webhook may target: https only, so events (directory data) never cross the network in clear, and
 * never an address inside a network (loopback, private, link-local, carrier-grade NAT, unique-local IPv6, or a
 * `localhost` name) or of special purpose (IANA's registries: documentation, benchmarking, multicast, broadcast, every
 * IPv6 form that embeds an IPv4 address, …), so a registered endpoint cannot point the worker's requests at
 * infrastructure. A name ending in a dot is refused: `localhost.` is `localhost` to a resolver, and no receiver
 * needs the dot. Only the scheme's default port, or one the deployment lists, so an endpoint cannot probe other
 * services of a public host. With `allowHttp` (WEBHOOKS_ALLOW_HTTP, passed by `npm run dev` for local receivers,
 * never in wrangler.toml) loopback hosts are accepted, over http:// too, on any port. Credentials in the URL are
 * refused: they would be stored and shown in clear. A public name that resolves to an internal address is not caught
 * here: a Worker cannot resolve a name before its fetch, which leaves from Cloudflare's network, not the operator's.
 */
export function endpointUrlProblem(text: string, policy: EndpointUrlPolicy): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "must be an absolute URL";
  }
  if (url.username || url.password) return "must not carry credentials";
  const loopbackAllowed = policy.allowHttp && isLoopback(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopbackAllowed)) {
    return policy.allowHttp ? "must be https:// (or http:// to a loopback host)" : "must be https://";
  }
  if (loopbackAllowed) return null;
  if (url.hostname.endsWith(".")) return "must not end its host name with a dot";
  const kind = hostKind(url.hostname);
  if (kind === "internal") return "must not name a loopback, private or link-local address";
  if (kind === "special") return "must not name a special-purpose address";
  // The parser leaves `port` empty for the scheme's default, however it was written.
  if (url.port !== "" && !policy.allowedPorts.includes(Number(url.port))) {
    return "must use the scheme's default port, or one WEBHOOK_ALLOWED_PORTS lists";
  }
  return null;
}

/**
 * The IP address a URL's host is, or null for a name. The URL parser has already normalised the other IPv4
 * spellings (decimal, hex, octal) to dotted form and IPv6 to bracketed hex, so these two forms are all there is.
 */
function address(host: string) {
  if (host.startsWith("[")) return ipaddr.IPv6.parse(host.slice(1, -1));
  return ipaddr.IPv4.isValidFourPartDecimal(host) ? ipaddr.IPv4.parse(host) : null;
}

const isLoopback = (host: string) => host === "localhost" || address(host)?.range() === "loopback";

/**
 * The ranges (ipaddr.js's names) refused as inside a network: IPv4-mapped IPv6 among them, as it always was, since it
 * reaches every IPv4 address, the private ones too. Every other named range is of special purpose.
 */
const INTERNAL = new Set([
  "unspecified",
  "loopback",
  "private",
  "linkLocal",
  "carrierGradeNat",
  "uniqueLocal",
  "ipv4Mapped",
]);
/** 2000::/3: the only IPv6 block IANA allocates for global unicast. */
const GLOBAL_UNICAST = ipaddr.parseCIDR("2000::/3");

function hostKind(host: string): "internal" | "special" | null {
  if (host === "localhost" || host.endsWith(".localhost")) return "internal";
  const ip = address(host);
  if (!ip) return null;
  const range = ip.range();
  if (INTERNAL.has(range)) return "internal";
  // ipaddr.js names IANA's special-purpose blocks, but not ::/96 (IPv4-compatible, deprecated) nor what is still
  // unallocated: outside 2000::/3, nothing is a public IPv6 address.
  if (range !== "unicast" || (ip.kind() === "ipv6" && !ip.match(GLOBAL_UNICAST))) return "special";
  return null;
}
