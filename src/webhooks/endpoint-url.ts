/**
 * Which URLs a webhook may target: https only, so events (directory data) never cross the network in clear, and
 * never an address inside a network (loopback, private, link-local, carrier-grade NAT, unique-local IPv6, or a
 * `localhost` name), so a registered endpoint cannot point the worker's requests at infrastructure. With `allowHttp`
 * (WEBHOOKS_ALLOW_HTTP, passed by `npm run dev` for local receivers, never in wrangler.toml) loopback hosts are
 * accepted, over http:// too. Credentials in the URL are refused: they would be stored and shown in clear. A public
 * name that resolves to an internal address is not caught here (a Worker's fetch leaves from Cloudflare's network).
 */
export function endpointUrlProblem(text: string, allowHttp: boolean): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "must be an absolute URL";
  }
  if (url.username || url.password) return "must not carry credentials";
  const loopbackAllowed = allowHttp && isLoopback(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopbackAllowed)) {
    return allowHttp ? "must be https:// (or http:// to a loopback host)" : "must be https://";
  }
  if (!loopbackAllowed && isInternal(url.hostname)) return "must not name a loopback, private or link-local address";
  return null;
}

const isLoopback = (host: string) => host === "localhost" || host === "[::1]" || (ipv4(host)?.[0] ?? -1) === 127;

/** The four numbers of a dotted IPv4 literal (the URL parser has already normalised other spellings), or null. */
function ipv4(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return null;
  return parts.map(Number);
}

function isInternal(host: string): boolean {
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  const v4 = ipv4(host);
  if (v4) {
    const [a = 0, b = 0] = v4;
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168)
    );
  }
  if (!host.startsWith("[")) return false;
  // IPv6 literals, as the URL parser writes them: loopback, unspecified, IPv4-mapped, unique-local, link-local.
  const v6 = host.slice(1, -1).toLowerCase();
  return (
    v6 === "::1" ||
    v6 === "::" ||
    v6.startsWith("::ffff:") ||
    v6.startsWith("fc") ||
    v6.startsWith("fd") ||
    /^fe[89ab]/.test(v6)
  );
}
