/**
 * Which URLs a webhook may target: https only, so events (directory data) never cross the network in clear. With
 * `allowHttp` (WEBHOOKS_ALLOW_HTTP, passed by `npm run dev` for local receivers, never in wrangler.toml) http:// is
 * accepted for loopback hosts alone. Credentials in the URL are refused: they would be stored and shown in clear.
 */
export function endpointUrlProblem(text: string, allowHttp: boolean): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "must be an absolute URL";
  }
  if (url.username || url.password) return "must not carry credentials";
  if (url.protocol === "https:") return null;
  if (url.protocol === "http:" && allowHttp && isLoopback(url.hostname)) return null;
  return allowHttp ? "must be https:// (or http:// to a loopback host)" : "must be https://";
}

const isLoopback = (host: string) => host === "localhost" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);
