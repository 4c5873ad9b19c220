import { defineConfig } from "vitest/config";

// Multi-process tests: one file at a time (2-core machines), generous per-test bounds (each test
// also bounds its own waits and fails with a message saying what it waited for).
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
