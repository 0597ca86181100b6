/**
 * RFC 3339 date-times with any number of fraction digits (.NET clients send seven: `2015-10-10T14:38:21.8617979-07:00`),
 * to epoch milliseconds; null when the text is not one.
 */
export function parseScimDateTime(text: string): number | null {
  const match = /^(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})?$/.exec(text.trim());
  if (!match) return null;
  const [, base, fraction = "", zone = "Z"] = match;
  const ms = Date.parse(`${base?.replace(/[t ]/, "T")}.${fraction.padEnd(3, "0").slice(0, 3)}${zone.toUpperCase()}`);
  return Number.isNaN(ms) ? null : ms;
}
