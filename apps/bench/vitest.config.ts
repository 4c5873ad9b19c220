import { defineConfig } from "vitest/config";

// The smoke test starts real clusters (three processes per mode): one file at a time, generous
// bounds for a busy 2-core machine (the test also bounds the child process itself).
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 150_000,
    hookTimeout: 60_000,
  },
});
