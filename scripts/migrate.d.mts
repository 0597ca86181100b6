// Types of migrate.mjs for the TypeScript that uses it (its test).
export declare function d1Bindings(configText: string, envName?: string): string[];
export declare function migrationCommands(
  configText: string,
  mode: "--local" | "--remote",
  extra: string[],
): string[][];
export declare function migrateAll(mode: "--local" | "--remote", extra: string[], env?: NodeJS.ProcessEnv): string[];
