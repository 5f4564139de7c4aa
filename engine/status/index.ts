/** The status server (/healthz, /metrics, mounted webhook receivers) and the Prometheus registries (prom-client). */
import { BUCKETS, createDaemonMetrics, type DaemonMetricReaders, type DaemonMetrics } from './daemon-metrics.js';
import { MetricsRegistry, PROMETHEUS_CONTENT_TYPE, type CollectedSample, type Counter, type Gauge, type Histogram, type Labels } from './metrics.js';
import { mergePortalFamilies, OTHER_PORTAL, PortalLabels, renderPortalMetrics, type LabelledRegistry } from './portal-metrics.js';
import { buildVersion, processMetrics } from './process-metrics.js';
import { DEFAULTS as STATUS_SERVER_DEFAULTS, ListenError, parseListen, startStatusServer, type HealthReport, type RequestHandler, type StatusServer, type StatusServerOptions } from './server.js';

export { MetricsRegistry, PROMETHEUS_CONTENT_TYPE, createDaemonMetrics, BUCKETS as METRIC_BUCKETS, processMetrics, buildVersion, startStatusServer, parseListen, ListenError, STATUS_SERVER_DEFAULTS };
export { PortalLabels, OTHER_PORTAL, mergePortalFamilies, renderPortalMetrics };
export type { Counter, Gauge, Histogram, Labels, CollectedSample, DaemonMetrics, DaemonMetricReaders, HealthReport, RequestHandler, StatusServer, StatusServerOptions, LabelledRegistry };
