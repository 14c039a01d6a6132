/**
 * `GET /metrics` in Prometheus' text format: request and operation counters, plus gauges read at scrape time
 * (WebSocket connections, subscriptions, the LISTEN connection, memory). Small on purpose: counters are
 * labelled only with bounded values (route, method, status, operation type, outcome).
 */
import type { Plugin } from 'graphql-yoga';
import type { EventSource } from '../db/events';

type Labels = Record<string, string>;

class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels): void {
    const key = JSON.stringify(labels);
    const entry = this.values.get(key) ?? { labels, value: 0 };
    entry.value += 1;
    this.values.set(key, entry);
  }

  render(): string[] {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} counter`,
      ...[...this.values.values()].map((e) => sample(this.name, e.labels, e.value)),
    ];
  }
}

function sample(name: string, labels: Labels, value: number): string {
  const rendered = Object.entries(labels)
    .map(([key, v]) => `${key}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
    .join(',');
  return `${name}${rendered ? `{${rendered}}` : ''} ${value}`;
}

function gauge(name: string, help: string, value: number): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, sample(name, {}, value)];
}

const KNOWN_ROUTES = new Set(['/graphql', '/health', '/ready', '/metrics']);

export interface Metrics {
  recordRequest(path: string, method: string, status: number): void;
  /** Counts GraphQL operations by type and outcome. */
  plugin: Plugin;
  render(live: { events: EventSource; webSocketConnections: number }): string;
}

export function createMetrics(): Metrics {
  const requests = new Counter('opportunity_http_requests_total', 'HTTP requests by route, method and status');
  const operations = new Counter('opportunity_graphql_operations_total', 'GraphQL operations by type and outcome');
  const started = Date.now();

  const plugin: Plugin = {
    onExecute: ({ args }) => {
      const type = operationType(args.document, args.operationName);
      return {
        onExecuteDone: ({ result }) => {
          const failed = 'errors' in result && Array.isArray(result.errors) && result.errors.length > 0;
          operations.inc({ type, outcome: failed ? 'error' : 'ok' });
        },
      };
    },
    onSubscribe: () => ({
      onSubscribeResult: () => operations.inc({ type: 'subscription', outcome: 'started' }),
    }),
  };

  return {
    recordRequest(path, method, status) {
      requests.inc({ route: KNOWN_ROUTES.has(path) ? path : 'other', method, status: String(status) });
    },
    plugin,
    render({ events, webSocketConnections }) {
      const memory = process.memoryUsage();
      return [
        ...requests.render(),
        ...operations.render(),
        ...gauge('opportunity_websocket_connections', 'Open GraphQL WebSocket connections', webSocketConnections),
        ...gauge('opportunity_subscription_watchers', 'Active subscriptions waiting for run events', events.watcherCount),
        ...gauge('opportunity_run_events_listening', '1 while the LISTEN connection is up', events.state === 'listening' ? 1 : 0),
        ...gauge('process_resident_memory_bytes', 'Resident memory', memory.rss),
        ...gauge('nodejs_heap_used_bytes', 'V8 heap in use', memory.heapUsed),
        ...gauge('process_uptime_seconds', 'Seconds since the server started', Math.round((Date.now() - started) / 1000)),
        '',
      ].join('\n');
    },
  };
}

function operationType(
  document: { definitions: readonly { kind: string; operation?: string; name?: { value: string } }[] },
  name?: string | null,
): string {
  const operations = document.definitions.filter((d) => d.kind === 'OperationDefinition');
  const chosen = name ? operations.find((d) => d.name?.value === name) : operations[0];
  return chosen?.operation ?? 'unknown';
}
