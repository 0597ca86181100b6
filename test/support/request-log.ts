import { vi } from "vitest";

/** A request's line of the request log (src/http/request-log.ts), as tests read it. */
export interface RequestLine extends Record<string, unknown> {
  route: string;
  status: number;
  d1: { calls: number; rowsWritten: number };
}

/** The request log's lines of what `send` does, parsed, with its answer. */
export async function logged<T>(send: () => Promise<T>) {
  const lines: RequestLine[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => {
    if (String(line).includes('"event":"request"')) lines.push(JSON.parse(String(line)) as RequestLine);
  });
  try {
    return { response: await send(), lines };
  } finally {
    spy.mockRestore();
  }
}
