// Types of build-worker.mjs for the TypeScript that uses it (the tooling tests).
export declare function buildWorker(options: { config: string; outdir: string; cwd?: string; args?: string[] }): {
  sizeLine: string;
  kib: number;
  gzipKiB: number;
  files: { name: string; kib: number }[];
  inputs: string[];
};
