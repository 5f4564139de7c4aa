/** `rules demo`: the daemon on the emulator with stub external services and simulated portal activity. */
import { runActivity, SCRIPT, type ActivityContext, type ActivityStep } from './activity.js';
import { startDemo, type DemoOptions, type RunningDemo } from './demo.js';
import { describeEffect, describeRun, type UserNames } from './narrate.js';
import { startStubServices, type StubRequest, type StubServices } from './stub-services.js';

export { startDemo, runActivity, SCRIPT, describeEffect, describeRun, startStubServices };
export type { DemoOptions, RunningDemo, ActivityContext, ActivityStep, UserNames, StubRequest, StubServices };
