/** The status server (/healthz, /metrics, mounted webhook receivers) and the Prometheus registry. */
import { createDaemonMetrics, type DaemonMetrics } from './daemon-metrics.js';
import { escapeHelp, escapeLabelValue, MetricsRegistry, PROMETHEUS_CONTENT_TYPE, renderFamilies, type Counter, type FamilySnapshot, type Gauge, type Labels } from './metrics.js';
import { mergePortalFamilies, OTHER_PORTAL, PortalLabels, renderPortalMetrics, type LabelledRegistry } from './portal-metrics.js';
import { DEFAULTS as STATUS_SERVER_DEFAULTS, ListenError, parseListen, startStatusServer, type HealthReport, type RequestHandler, type StatusServer, type StatusServerOptions } from './server.js';

export { MetricsRegistry, PROMETHEUS_CONTENT_TYPE, escapeHelp, escapeLabelValue, renderFamilies, createDaemonMetrics, startStatusServer, parseListen, ListenError, STATUS_SERVER_DEFAULTS };
export { PortalLabels, OTHER_PORTAL, mergePortalFamilies, renderPortalMetrics };
export type { Counter, Gauge, Labels, FamilySnapshot, DaemonMetrics, HealthReport, RequestHandler, StatusServer, StatusServerOptions, LabelledRegistry };
