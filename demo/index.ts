/** `rules demo`: the daemon on the emulator with stub external services and simulated portal activity. */
import { ACTIVITY_DEFAULTS, runActivity, SCRIPT, userCall, type ActivityContext, type ActivityOptions, type ActivityStep } from './activity.js';
import { startDemo, type DemoOptions, type RunningDemo } from './demo.js';
import { describeEffect, describeRun, type UserNames } from './narrate.js';
import { startStubServices, type StubRequest, type StubServices } from './stub-services.js';

export { startDemo, runActivity, userCall, ACTIVITY_DEFAULTS, SCRIPT, describeEffect, describeRun, startStubServices };
export type { DemoOptions, RunningDemo, ActivityContext, ActivityOptions, ActivityStep, UserNames, StubRequest, StubServices };
