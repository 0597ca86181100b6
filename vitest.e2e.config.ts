import { defineConfig } from "vitest/config";

// Browser tests (`npm run test:e2e`): Node drives Debian's Chromium through playwright-core against the worker
// under `wrangler dev` (test/e2e/global-setup.ts). One file at a time: one worker, one browser.
export default defineConfig({
  test: {
    name: "e2e",
    include: ["test/e2e/**/*.test.ts"],
    environment: "node",
    globalSetup: ["./test/e2e/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
