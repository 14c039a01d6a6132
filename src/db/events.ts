/**
 * The one event source: a dedicated PostgreSQL connection that LISTENs on `run_events` (filled by the triggers
 * of migration 20261125080554_run_events), so changes written by anyone, on any instance or by the pipeline,
 * reach this process, and on `auth_events` (sessions revoked and users deleted in Clerk, announced by whichever
 * instance received the webhook). It uses the direct URL: LISTEN does not survive a transaction-pooling
 * PgBouncer.
 *
 * This file is the connection only: it parses each notification and hands it on, and when the connection
 * drops it reconnects with exponential backoff, then signals a resync (notifications sent while it was away are
 * lost). Who is watching which run is src/live/watchers.ts.
 */
import pg from 'pg';
import { z } from 'zod';
import type { Prisma } from '../generated/prisma/client';
import { logger } from '../logger';
import { parsePoolSettings } from './url';

export const RUN_EVENTS_CHANNEL = 'run_events';
export const AUTH_EVENTS_CHANNEL = 'auth_events';
/** How the listening connection shows in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = 'opportunity-api:run-events';

/** What the run_events triggers send: ids and what changed, never the data. */
const runEventPayload = z.object({
  runId: z.string(),
  userId: z.string().nullable().catch(null),
  change: z.enum(['created', 'updated', 'deleted', 'StageOutput', 'InspirationReport', 'OpportunityCard']),
  status: z.string().optional(),
  stage: z.number().optional(),
  updatedAt: z.string().optional(),
});

export type RunEvent = z.infer<typeof runEventPayload>;
export type RunChange = RunEvent['change'];

const authEventPayload = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('session-revoked'), sessionId: z.string(), clerkId: z.string(), forgetAfter: z.coerce.string() }),
  z.object({ kind: z.literal('user-deleted'), clerkId: z.string(), userId: z.string().nullable().catch(null) }),
]);

/** A Clerk session that must no longer be served, or a Clerk user deleted with all their data. */
export type AuthEvent = z.infer<typeof authEventPayload>;

/** A notification's payload as `schema` describes it; undefined when it is not (not JSON, or another shape). */
function parsePayload<T>(schema: z.ZodType<T>, payload: string | undefined): T | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(payload ?? ''));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export const parseRunEvent = (payload: string | undefined) => parsePayload(runEventPayload, payload);
export const parseAuthEvent = (payload: string | undefined) => parsePayload(authEventPayload, payload);

/**
 * Announces an auth event to every instance (this one included) when `tx` commits, and never if it rolls
 * back: NOTIFY is transactional.
 */
export async function notifyAuthEvent(tx: Pick<Prisma.TransactionClient, '$executeRaw'>, event: AuthEvent): Promise<void> {
  await tx.$executeRaw`SELECT pg_notify(${AUTH_EVENTS_CHANNEL}, ${JSON.stringify(event)})`;
}

export type ListenerState = 'connecting' | 'listening' | 'reconnecting' | 'stopped';

/**
 * What the listener hands on: a notification, or a resync after it reconnected (notifications may have been
 * missed; `since` is the database's time when it listened again).
 */
export type RunSignal = { kind: 'event'; event: RunEvent } | { kind: 'resync'; since: Date };
export type AuthSignal = { kind: 'event'; event: AuthEvent } | { kind: 'resync' };

export interface EventSource {
  readonly state: ListenerState;
  /** The database's time when the current connection began to listen; undefined while not listening. */
  readonly listeningSince: Date | undefined;
  /** Calls `onSignal` for every run event and after every reconnect; returns the unsubscribe. */
  onRunSignal(onSignal: (signal: RunSignal) => void): () => void;
  /** Calls `onSignal` for every auth event and after every reconnect; returns the unsubscribe. */
  onAuthSignal(onSignal: (signal: AuthSignal) => void): () => void;
  /** A query on the listening connection (direct to PostgreSQL); fails while it is not connected. */
  query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<R[]>;
}

export interface ListenerOptions {
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** How often an idle connection is checked with a query (a dead TCP peer is otherwise noticed late). */
  heartbeatMs?: number;
}

/** The LISTEN connection: run events for subscriptions, auth events for ended sessions and deleted users. */
export class NotificationListener implements EventSource {
  private client: pg.Client | undefined;
  private current: ListenerState = 'stopped';
  private since: Date | undefined;
  private backoffMs: number;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly runHandlers = new Set<(signal: RunSignal) => void>();
  private readonly authHandlers = new Set<(signal: AuthSignal) => void>();
  private connectedOnce = false;
  private backendPid: number | undefined;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly heartbeatMs: number;

  constructor(
    private readonly directUrl: string,
    options: ListenerOptions = {},
  ) {
    this.minBackoffMs = options.minBackoffMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.backoffMs = this.minBackoffMs;
  }

  get state(): ListenerState {
    return this.current;
  }

  get listeningSince(): Date | undefined {
    return this.since;
  }

  /** The listening connection's server process id (tests terminate it to prove reconnection). */
  get pid(): number | undefined {
    return this.backendPid;
  }

  /**
   * Connects and LISTENs. Resolves after the first attempt: if that failed, it keeps retrying in the background
   * (state `reconnecting`, which /ready reports) rather than failing the whole server.
   */
  async start(): Promise<void> {
    this.current = 'connecting';
    try {
      await this.connect();
    } catch (err) {
      this.current = 'reconnecting';
      logger.warn('run event listener could not connect; retrying', { err, inMs: this.backoffMs });
      this.scheduleReconnect();
    }
  }

  async stop(): Promise<void> {
    this.current = 'stopped';
    this.since = undefined;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeatTimer);
    const client = this.client;
    this.client = undefined;
    this.backendPid = undefined;
    await client?.end().catch(() => undefined);
  }

  onRunSignal(onSignal: (signal: RunSignal) => void): () => void {
    this.runHandlers.add(onSignal);
    return () => this.runHandlers.delete(onSignal);
  }

  onAuthSignal(onSignal: (signal: AuthSignal) => void): () => void {
    this.authHandlers.add(onSignal);
    return () => this.authHandlers.delete(onSignal);
  }

  async query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<R[]> {
    if (!this.client) throw new Error('the run event listener is not connected');
    return (await this.client.query<R>(text, values)).rows;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: parsePoolSettings(this.directUrl).connectionString,
      keepAlive: true,
      application_name: LISTENER_APPLICATION_NAME,
    });
    client.on('notification', (message) => this.received(message.channel, message.payload));
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('connection ended')));

    await client.connect();
    await client.query(`LISTEN ${RUN_EVENTS_CHANNEL}; LISTEN ${AUTH_EVENTS_CHANNEL}`);
    const { rows } = await client.query<{ pid: number; now: Date }>('SELECT pg_backend_pid() AS pid, now() AS now');
    if (this.current === 'stopped') {
      await client.end();
      return;
    }
    this.client = client;
    this.backendPid = rows[0]?.pid;
    this.since = rows[0]!.now;
    this.current = 'listening';
    this.backoffMs = this.minBackoffMs;
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      client.query('SELECT 1').catch((err: unknown) => this.lost(client, err));
    }, this.heartbeatMs);
    this.heartbeatTimer.unref();

    if (this.connectedOnce) {
      logger.info('run event listener reconnected; resyncing subscriptions');
      this.emit(this.runHandlers, { kind: 'resync', since: this.since });
      this.emit(this.authHandlers, { kind: 'resync' });
    }
    this.connectedOnce = true;
  }

  private received(channel: string, payload: string | undefined): void {
    if (channel === RUN_EVENTS_CHANNEL) {
      const event = parseRunEvent(payload);
      if (!event) return logger.warn('ignored a malformed run event', { payload });
      this.emit(this.runHandlers, { kind: 'event', event });
    } else if (channel === AUTH_EVENTS_CHANNEL) {
      const event = parseAuthEvent(payload);
      if (!event) return logger.warn('ignored a malformed auth event', { payload });
      this.emit(this.authHandlers, { kind: 'event', event });
    }
  }

  private emit<S>(handlers: Set<(signal: S) => void>, signal: S): void {
    for (const onSignal of [...handlers]) {
      try {
        onSignal(signal);
      } catch (err) {
        logger.error('an event handler failed', { err });
      }
    }
  }

  private lost(client: pg.Client, err: unknown): void {
    if (client !== this.client || this.current === 'stopped') return;
    this.client = undefined;
    this.backendPid = undefined;
    this.since = undefined;
    clearInterval(this.heartbeatTimer);
    client.removeAllListeners('error');
    client.on('error', () => undefined);
    client.end().catch(() => undefined);
    this.current = 'reconnecting';
    logger.warn('run event listener lost its connection; reconnecting', { err, inMs: this.backoffMs });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
    this.reconnectTimer = setTimeout(() => {
      if (this.current === 'stopped') return;
      this.connect().catch((err: unknown) => {
        logger.warn('run event listener could not reconnect yet', { err, retryInMs: this.backoffMs });
        this.scheduleReconnect();
      });
    }, delay);
  }
}
