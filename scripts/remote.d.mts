// Types of remote.mjs for the TypeScript that uses it (its test).
export interface Step {
  run: string[];
  record?: { table: string; binding: string; field: string };
  /** Secrets generated and uploaded with the deploy (`--secrets-file`). */
  secrets?: string[];
  /** Which answer means the resource exists already (ANSWERS): not a failure. */
  existsIf?: "queue";
}
export declare const ANSWERS: { queue: RegExp; noWorker: RegExp };
export declare function environmentOf(configText: string, args: string[]): string;
export declare function resourcesOf(
  configText: string,
  envName: string,
): {
  databases: { binding: string; name: string; created: boolean }[];
  kv: { binding: string; created: boolean }[];
  queues: string[];
  secrets: string[];
};
export declare function writeId(
  configText: string,
  target: { envName: string; table: string; binding: string; field: string; id: string },
): string;
export declare function createdId(output: string, field: string): string;
/** Secrets by worker: the app worker's and the SCIM worker's. */
export interface WorkerSecrets {
  app: string[];
  scim: string[];
}
export declare function deploySteps(envName: string, secrets?: WorkerSecrets): Step[];
export declare function missingSecrets(
  envName: string,
  required: string[],
  existing: WorkerSecrets,
): WorkerSecrets & { warnings: string[] };
export declare function setupSteps(configText: string, envName: string, existing?: WorkerSecrets): Step[];
