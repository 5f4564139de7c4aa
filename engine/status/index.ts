/** The status server (/healthz, /metrics, mounted webhook receivers) and the Prometheus registry. */
import { createDaemonMetrics, type DaemonMetrics } from './daemon-metrics.js';
import { escapeHelp, escapeLabelValue, MetricsRegistry, PROMETHEUS_CONTENT_TYPE, type Counter, type Gauge, type Labels } from './metrics.js';
import { DEFAULTS as STATUS_SERVER_DEFAULTS, ListenError, parseListen, startStatusServer, type HealthReport, type RequestHandler, type StatusServer, type StatusServerOptions } from './server.js';

export { MetricsRegistry, PROMETHEUS_CONTENT_TYPE, escapeHelp, escapeLabelValue, createDaemonMetrics, startStatusServer, parseListen, ListenError, STATUS_SERVER_DEFAULTS };
export type { Counter, Gauge, Labels, DaemonMetrics, HealthReport, RequestHandler, StatusServer, StatusServerOptions };
