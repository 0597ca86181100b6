/**
 * Base64 over bytes with btoa/atob, which every Workers runtime has. (`Uint8Array.prototype.toBase64` would do, but
 * the types this project compiles against do not declare it yet.)
 */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Throws on text that is not base64 (atob's DOMException). */
export function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** RFC 4648 §5, without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  const base64 = toBase64(bytes).replaceAll("+", "-").replaceAll("/", "_");
  const padding = base64.indexOf("=");
  return padding === -1 ? base64 : base64.slice(0, padding);
}

export const fromBase64Url = (text: string) => fromBase64(text.replaceAll("-", "+").replaceAll("_", "/"));
