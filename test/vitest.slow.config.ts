import { defineConfig } from 'vitest/config';

// `npm run test:slow`: the robustness checks too slow for every run: writers killed with SIGKILL
// over and over, a 1,000,000-line restore, and the fuzz tests at full strength (every corpus
// line damaged, thousands of random command lines).
export default defineConfig({
  test: {
    include: ['test/robustness/slow/*.slow.ts', 'test/robustness/fuzz-*.test.ts'],
    testTimeout: 1800000,
    hookTimeout: 300000,
    pool: 'forks',
    fileParallelism: false,
    env: { FUZZ_CORPUS_STRIDE: '1', FUZZ_RUNS: '3000' },
  },
});
