import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Ceilings, not assertions: a hang still fails, but a CLI subprocess on a loaded 2-core CI machine
    // (measured: the suite beside two CPU hogs and other work, load average 17) may take many times its usual time.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // A throwaway PostgreSQL server for the PostgreSQL suite when its binaries are installed (inject('pgUrl')).
    globalSetup: ['test/helpers/pg-global-setup.ts'],
  },
});
