/**
 * Workers of a PostgreSQL deployment (`rules run --state postgres://... --worker-id NAME`): many portals per
 * process under leases, one status server (/healthz, /metrics with a bounded portal label, the install endpoint).
 */
export { createWorker, workerInDoubtSettleMs, workerUserAgent, WORKER_DEFAULTS, type Worker, type WorkerOptions } from './worker.js';
export { LeaseLoop, type LeaseLoopOptions } from './lease-loop.js';
export { PortalRunner, portalRulePaths, type RunnerDeps, type RunnerState } from './portal-runner.js';
