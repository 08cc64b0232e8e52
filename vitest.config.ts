import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Integration tests start daemons and real peers; two cores, so keep the parallelism modest.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
