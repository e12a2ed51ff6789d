import { defineConfig } from 'vitest/config';

// opt-in: `npm run test:browser` (needs Debian's chromium); `npm test` never picks these up
export default defineConfig({
  test: {
    include: ['test/browser/**/*.browser.ts'],
    testTimeout: 120000,
    hookTimeout: 60000,
    pool: 'forks',
    fileParallelism: false,
  },
});
