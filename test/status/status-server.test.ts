import { afterEach, describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../engine/status/metrics.js';
import { createDaemonMetrics } from '../../engine/status/daemon-metrics.js';
import { parseListen, startStatusServer, type StatusServer } from '../../engine/status/server.js';

describe('MetricsRegistry (prom-client underneath)', () => {
  it('renders HELP/TYPE lines, labelled samples and escapes label values and help text', async () => {
    const r = new MetricsRegistry();
    const c = r.counter('x_total', 'Line one\nwith a back\\slash', ['rule']);
    c.inc({ rule: 'a"b\\c\nd' }, 2);
    c.inc({ rule: 'plain' });
    r.gauge('g', 'A gauge').set(1.5);
    const text = await r.render();
    expect(text).toContain('# HELP x_total Line one\\nwith a back\\\\slash\n');
    expect(text).toContain('# TYPE x_total counter\n');
    expect(text).toContain('x_total{rule="a\\"b\\\\c\\nd"} 2\n');
    expect(text).toContain('x_total{rule="plain"} 1\n');
    expect(text).toContain('# TYPE g gauge\ng 1.5\n');
    expect(text.endsWith('\n')).toBe(true);
    expect(c.get({ rule: 'plain' })).toBe(1);
  });

  it('refuses a counter decrease, bad names, a type clash and labels not declared', () => {
    const r = new MetricsRegistry();
    const c = r.counter('ok_total', 'h', ['rule']);
    expect(() => c.inc({}, -1)).toThrow(/cannot decrease/);
    expect(() => r.counter('bad-name', 'h')).toThrow(/invalid metric name/);
    expect(() => r.gauge('ok_total', 'h')).toThrow(/already registered/);
    expect(() => c.inc({ 'bad-label': 1 })).toThrow(/invalid label name/);
    expect(() => c.inc({ outcome: 'done' })).toThrow(/label 'outcome' is not declared on ok_total/);
    expect(r.counter('ok_total', 'h', ['rule'])).toBe(c);
  });

  it('reads collected gauges at scrape time and skips a failing collector', async () => {
    let depth = 3;
    const m = createDaemonMetrics({
      depth: () => depth,
      dlqSize: () => {
        throw new Error('store closed');
      },
    });
    expect(await m.registry.render()).toContain('b24rules_queue_depth 3\n');
    depth = 7;
    const text = await m.registry.render();
    expect(text).toContain('b24rules_queue_depth 7\n');
    expect(text).toContain('# TYPE b24rules_dlq_size gauge\n');
    expect(text).not.toMatch(/^b24rules_dlq_size /m);
  });

  it('histograms count observations into buckets in seconds', async () => {
    const m = createDaemonMetrics();
    m.restRequestDuration.observe(0.2, { family: 'crm.deal' });
    m.restRequestDuration.observe(3, { family: 'crm.deal' });
    const text = await m.registry.render();
    expect(text).toContain('# TYPE b24rules_rest_request_duration_seconds histogram\n');
    expect(text).toContain('b24rules_rest_request_duration_seconds_bucket{le="0.25",family="crm.deal"} 1\n');
    expect(text).toContain('b24rules_rest_request_duration_seconds_bucket{le="+Inf",family="crm.deal"} 2\n');
    expect(text).toContain('b24rules_rest_request_duration_seconds_count{family="crm.deal"} 2\n');
  });
});

describe('parseListen', () => {
  it.each([
    ['127.0.0.1:8080', '127.0.0.1', 8080],
    [':0', '127.0.0.1', 0],
    ['9000', '127.0.0.1', 9000],
    ['0.0.0.0:1', '0.0.0.0', 1],
    ['[::1]:7', '::1', 7],
  ])('%s', (input, host, port) => {
    expect(parseListen(input)).toEqual({ host, port });
  });
  it('refuses garbage with a hint', () => {
    expect(() => parseListen('localhost')).toThrow(/host:port/);
    expect(() => parseListen('a:70000')).toThrow(/host:port/);
  });
});

describe('status server', () => {
  let server: StatusServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('answers /healthz 200 with JSON, 503 when unhealthy or when the check throws', async () => {
    let mode: 'ok' | 'bad' | 'throw' = 'ok';
    const metrics = createDaemonMetrics();
    server = await startStatusServer({
      listen: '127.0.0.1:0',
      metrics: metrics.registry,
      health: () => {
        if (mode === 'throw') throw new Error('database is locked');
        return { ok: mode === 'ok', rules: 2 };
      },
    });
    let res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', ok: true, rules: 2 });
    mode = 'bad';
    res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'unhealthy' });
    mode = 'throw';
    res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'unhealthy', error: 'database is locked' });
  });

  it('serves /metrics in the Prometheus text format and 404s unknown paths', async () => {
    const metrics = createDaemonMetrics({ depth: () => 4 });
    metrics.ruleRuns.inc({ rule: 'lead-routing', outcome: 'done' });
    server = await startStatusServer({ listen: ':0', metrics: metrics.registry, health: () => ({ ok: true }) });
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('b24rules_rule_runs_total{outcome="done",rule="lead-routing"} 1');
    expect(text).toContain('b24rules_queue_depth 4');
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
  });

  it('passes other paths to mounted handlers in order, and a throwing handler answers 500', async () => {
    const metrics = createDaemonMetrics();
    server = await startStatusServer({
      listen: ':0',
      metrics: metrics.registry,
      health: () => ({ ok: true }),
      handlers: [
        (_req, res, url) => {
          if (url.pathname !== '/a') return false;
          res.end('A');
          return true;
        },
        (_req, _res, url) => {
          if (url.pathname === '/boom') throw new Error('bug');
          return false;
        },
      ],
    });
    expect(await (await fetch(`${server.url}/a`)).text()).toBe('A');
    expect((await fetch(`${server.url}/boom`)).status).toBe(500);
  });

  it('reports a port in use as a LISTEN_FAILED user error', async () => {
    const metrics = createDaemonMetrics();
    server = await startStatusServer({ listen: ':0', metrics: metrics.registry, health: () => ({ ok: true }) });
    const port = new URL(server.url).port;
    await expect(startStatusServer({ listen: `127.0.0.1:${port}`, metrics: metrics.registry, health: () => ({ ok: true }) })).rejects.toMatchObject({
      code: 'LISTEN_FAILED',
    });
  });
});
