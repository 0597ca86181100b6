/**
 * Structured log lines (one JSON object each) for Workers Logs. Callers pass ids and counts, never tokens, keys
 * or request bodies.
 */
export function logEvent(level: "info" | "warn" | "error", event: string, fields: Record<string, unknown> = {}) {
  const line = JSON.stringify({ level, event, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
