// Types of local-worker.mjs for the TypeScript that uses it (the browser tests' global setup).
export declare const WRANGLER_ENV: NodeJS.ProcessEnv;
export declare function freePort(): Promise<number>;
export declare function d1(persistTo: string, args: string[], config?: string): string;
export declare function kv(persistTo: string, args: string[], config?: string): string;
export declare function migrateLocal(persistTo: string, config?: string): void;
export declare function writeLocalConfigs(
  dir: string,
  options?: { config?: string; vars?: Record<string, string> },
): string[];
export declare function startWorker(options: {
  persistTo: string;
  vars?: Record<string, string>;
  config?: string;
  ready?: string;
}): Promise<{ origin: string; stop: () => void }>;
export declare function withRetry<T>(request: () => Promise<T>): Promise<T>;
export declare function adminCall(
  origin: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown>;
