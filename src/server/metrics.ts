/**
 * `GET /metrics` in Prometheus' text format, from prom-client: graphql-yoga's Prometheus plugin times the
 * GraphQL phases and counts operations and errors; this module adds an HTTP histogram for every route and
 * gauges read at scrape time (WebSocket connections, subscriptions, the LISTEN connection, the database pool),
 * plus Node's default process metrics. Labels hold only bounded values (route, method, status, operation type).
 */
import { usePrometheus } from '@graphql-yoga/plugin-prometheus';
import type { Plugin } from 'graphql-yoga';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../db/client';
import { poolUsage } from '../db/client';
import type { EventSource } from '../db/events';

const KNOWN_ROUTES = new Set(['/graphql', '/health', '/ready', '/metrics', '/webhooks/clerk']);

export interface Metrics {
  /**
   * Reports the open connections, read at scrape time: the server's TCP connections (src/server/connections.ts)
   * and its GraphQL WebSockets. Called once both exist, after the GraphQL server this module's plugin is part of.
   */
  countConnections(read: { tcp: () => number; webSockets: () => number }): void;
  /** Starts timing one HTTP request; call the result when its response is finished. */
  startRequest(path: string, method: string): (status: number) => void;
  /** Counts one Clerk webhook: its event type (`unverified` before its signature is checked) and outcome. */
  webhookReceived(type: string, outcome: string): void;
  /** Counts one connection refused, or one idle connection closed to make room, by the connection caps. */
  connectionCapped(action: 'refused' | 'evicted'): void;
  /** The yoga plugin that times GraphQL phases and counts operations. */
  plugin: Plugin;
  contentType: string;
  render(): Promise<string>;
}

export interface LiveState {
  events: EventSource;
  /** Subscriptions open on this instance. */
  openSubscriptions: () => number;
  db: Database;
  /** Executions serving runUpdated subscribers (identical subscribers share one). */
  sharedExecutions: () => number;
  /** The backstop's checks so far, and the runs it sent because no notification had announced their change. */
  backstop: () => { checks: number; resent: number };
}

/** The application pool: connections in use and idle, and queries waiting for one, read at scrape time. */
function poolGauge(registry: Registry, db: Database): void {
  new Gauge({
    name: 'opportunity_db_pool_connections',
    help: 'Application database pool: connections in use and idle, and queries waiting for one',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const usage = poolUsage(db);
      if (!usage) return;
      this.set({ state: 'in_use' }, usage.total - usage.idle);
      this.set({ state: 'idle' }, usage.idle);
      this.set({ state: 'waiting' }, usage.waiting);
    },
  });
}

/** A value read at scrape time. */
function gauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/**
 * The live path: subscriptions waiting, shared executions, the LISTEN connection, and the backstop's checks and
 * re-sent runs (counted by the watchers, src/live/watchers.ts), all read at scrape time.
 */
function liveMetrics(registry: Registry, { openSubscriptions, sharedExecutions, events, backstop }: LiveState): void {
  gauge(registry, 'opportunity_subscription_watchers', 'Active subscriptions waiting for run events', openSubscriptions);
  gauge(
    registry,
    'opportunity_shared_subscription_executions',
    'Executions serving runUpdated subscriptions (identical subscribers share one)',
    sharedExecutions,
  );
  gauge(registry, 'opportunity_run_events_listening', '1 while the LISTEN connection is up', () => (events.state === 'listening' ? 1 : 0));
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  counter(
    'opportunity_backstop_checks_total',
    'Backstop checks of the watched runs for changes no notification announced',
    () => backstop().checks,
  );
  counter(
    'opportunity_backstop_resent_runs_total',
    'Runs the backstop sent because their change arrived without a notification (lost notifications)',
    () => backstop().resent,
  );
}

/**
 * yoga's Prometheus plugin: execution time of queries and mutations by operation type (its count is the number
 * executed) and errors by phase. Its request counter and request-duration histogram measured the same
 * execution a second and third time, and its HTTP histogram repeats opportunity_http_request_duration_seconds
 * (and sees only the requests yoga's own handler answers, src/server/plain-http.ts): off, as each observation
 * costs on every request.
 */
function prometheusPlugin(registry: Registry): Plugin {
  return usePrometheus({
    registry,
    endpoint: false, // served by our own router, beside the other routes
    // Client-chosen values (operation names, URLs with their query strings) would make labels unbounded.
    labels: { operationName: false, url: false },
    // What an operator needs per operation type: its duration, how many there were, their errors, and the
    // time spent executing. Parse and validate are cached, context is a lookup: their histograms would
    // cost every request more than they tell; a summary would recompute quantiles on every observation.
    // Subscriptions are counted by this module's gauges (active subscriptions, shared executions): measured by the
    // plugin, every one of them would pass each message through one more async-iterator layer, which costs
    // memory per subscription and time per message at tens of thousands of subscriptions.
    metrics: {
      graphql_envelop_phase_subscribe: false,
      graphql_envelop_request: false,
      graphql_envelop_request_duration: false,
      graphql_yoga_http_duration: false,
      graphql_envelop_error_result: ['parse', 'validate', 'context', 'execute'],
      graphql_envelop_deprecated_field: false,
      graphql_envelop_schema_change: false,
      graphql_envelop_request_time_summary: false,
      graphql_envelop_phase_parse: false,
      graphql_envelop_phase_validate: false,
      graphql_envelop_phase_context: false,
    },
  });
}

export function createMetrics(state: LiveState): Metrics {
  // One registry per app: tests run several servers in one process.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Histogram({
    name: 'opportunity_http_request_duration_seconds',
    help: 'HTTP requests by route, method and status, with their duration',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const webhooks = new Counter({
    name: 'opportunity_clerk_webhooks_total',
    help: 'Clerk webhooks received, by event type and outcome (applied, replayed, stale, ignored, rejected, conflict, failed)',
    labelNames: ['type', 'outcome'],
    registers: [registry],
  });
  const capped = new Counter({
    name: 'opportunity_http_connections_capped_total',
    help: 'New connections refused by a cap (too many from one address, or every connection busy), and idle ones closed to make room',
    labelNames: ['action'],
    registers: [registry],
  });
  liveMetrics(registry, state);
  poolGauge(registry, state.db);

  return {
    countConnections({ tcp, webSockets }) {
      gauge(registry, 'opportunity_websocket_connections', 'Open GraphQL WebSocket connections', webSockets);
      gauge(registry, 'opportunity_http_connections', 'Open TCP connections (HTTP, SSE and WebSocket)', tcp);
    },
    webhookReceived: (type, outcome) => webhooks.inc({ type, outcome }),
    connectionCapped: (action) => capped.inc({ action }),
    startRequest(path, method) {
      const end = requests.startTimer({ route: KNOWN_ROUTES.has(path) ? path : 'other', method });
      return (status) => end({ status: String(status) });
    },
    plugin: prometheusPlugin(registry),
    contentType: registry.contentType,
    render: () => registry.metrics(),
  };
}
