// Types of scim-worker.mjs for the TypeScript that uses it (the tooling tests).
export declare const SCIM_CONFIG: string;
export declare const SCIM_SECRETS: string[];
export declare const LEFT_OUT: string[];
/** A wrangler config, as smol-toml parses it or as JSON. */
export type WranglerConfig = { [key: string]: unknown };
export declare function scimWorkerConfig(app: WranglerConfig): WranglerConfig;
export declare function writeScimWorkerConfig(appConfig?: string): string;
