/**
 * The one event source: a dedicated PostgreSQL connection that LISTENs on `run_events` (filled by the triggers
 * of migration 20261125080554_run_events), so changes written by anyone, on any instance or by the pipeline,
 * reach this process, and on `auth_events` (sessions revoked and users deleted in Clerk, announced by whichever
 * instance received the webhook). It uses the direct URL: LISTEN does not survive a transaction-pooling
 * PgBouncer.
 *
 * When the connection drops it reconnects with exponential backoff, then tells every watcher to resync
 * (refetch its current state), since notifications sent while it was away are lost.
 */
import pg from 'pg';
import type { Prisma } from '../generated/prisma/client';
import { logger } from '../logger';
import { parsePoolSettings } from './url';

export const RUN_EVENTS_CHANNEL = 'run_events';
export const AUTH_EVENTS_CHANNEL = 'auth_events';
/** How the listening connection shows in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = 'opportunity-api:run-events';

export type RunChange = 'created' | 'updated' | 'deleted' | 'StageOutput' | 'InspirationReport' | 'OpportunityCard';

export interface RunEvent {
  runId: string;
  userId: string | null;
  change: RunChange;
  status?: string;
  stage?: number;
  updatedAt?: string;
}

/** A Clerk session that must no longer be served, or a Clerk user deleted with all their data. */
export type AuthEvent =
  | { kind: 'session-revoked'; sessionId: string; clerkId: string; forgetAfter: string }
  | { kind: 'user-deleted'; clerkId: string; userId: string | null };

/** What an auth watcher is told: an event, or "reload: events may have been missed". */
export type AuthSignal = { kind: 'event'; event: AuthEvent } | { kind: 'resync' };

/**
 * Announces an auth event to every instance (this one included) when `tx` commits, and never if it rolls
 * back: NOTIFY is transactional.
 */
export async function notifyAuthEvent(tx: Pick<Prisma.TransactionClient, '$executeRaw'>, event: AuthEvent): Promise<void> {
  await tx.$executeRaw`SELECT pg_notify(${AUTH_EVENTS_CHANNEL}, ${JSON.stringify(event)})`;
}

export function parseAuthEvent(payload: string | undefined): AuthEvent | undefined {
  try {
    const parsed = JSON.parse(payload ?? '') as Partial<Record<string, unknown>>;
    if (parsed.kind === 'session-revoked' && typeof parsed.sessionId === 'string' && typeof parsed.clerkId === 'string')
      return { kind: 'session-revoked', sessionId: parsed.sessionId, clerkId: parsed.clerkId, forgetAfter: String(parsed.forgetAfter) };
    if (parsed.kind === 'user-deleted' && typeof parsed.clerkId === 'string')
      return { kind: 'user-deleted', clerkId: parsed.clerkId, userId: typeof parsed.userId === 'string' ? parsed.userId : null };
  } catch {
    // not JSON: reported by the caller
  }
  return undefined;
}

export type ListenerState = 'connecting' | 'listening' | 'reconnecting' | 'stopped';

/** What a watcher is told: a change to one of its user's runs, or "you may have missed changes". */
export type Signal = { kind: 'event'; event: RunEvent } | { kind: 'resync' };

export interface EventSource {
  readonly state: ListenerState;
  /** Number of active watchers (subscriptions). */
  readonly watcherCount: number;
  /** Number of active watchers of one user. */
  watcherCountOf(userId: string): number;
  /** Calls `onSignal` for every event of this user's runs and after every reconnect; returns the unsubscribe. */
  watch(userId: string, onSignal: (signal: Signal) => void): () => void;
  /**
   * Calls `onSignal` for every event of one run (of this user) and after every reconnect: an event reaches
   * only the watchers of its run, however many other runs the user watches.
   */
  watchRun(userId: string, runId: string, onSignal: (signal: Signal) => void): () => void;
  /** Counts a subscription of this user that shares another's watcher (the per-user limit); returns the release. */
  hold(userId: string): () => void;
  /** Calls `onSignal` for every auth event and after every reconnect; returns the unsubscribe. */
  watchAuth(onSignal: (signal: AuthSignal) => void): () => void;
}

export interface ListenerOptions {
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** How often an idle connection is checked with a query (a dead TCP peer is otherwise noticed late). */
  heartbeatMs?: number;
  /**
   * How often the watched runs are checked for a change no notification announced (default 30 s): a
   * subscriber must never wait forever for a state, whatever happened to a notification.
   */
  backstopMs?: number;
}

export function parseRunEvent(payload: string | undefined): RunEvent | undefined {
  if (!payload) return undefined;
  try {
    const parsed = JSON.parse(payload) as Partial<RunEvent>;
    if (typeof parsed.runId !== 'string' || typeof parsed.change !== 'string') return undefined;
    return { ...parsed, runId: parsed.runId, change: parsed.change, userId: typeof parsed.userId === 'string' ? parsed.userId : null };
  } catch {
    return undefined;
  }
}

export class RunEventListener implements EventSource {
  private client: pg.Client | undefined;
  private current: ListenerState = 'stopped';
  private backoffMs: number;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private backstopTimer: NodeJS.Timeout | undefined;
  /** The database's time of the last backstop check. */
  private checkedAt: Date | undefined;
  /** The newest `updatedAt` announced for each recently changed run (as PostgreSQL formats it). */
  private readonly announced = new Map<string, string>();
  /** Watchers of all of a user's runs, by user id. */
  private readonly watchers = new Map<string, Set<(signal: Signal) => void>>();
  /** Watchers of one run, by run id. */
  private readonly runWatchers = new Map<string, Set<(signal: Signal) => void>>();
  /** Watchers of either kind, by user id (the per-user subscription limit). */
  private readonly counts = new Map<string, number>();
  private total = 0;
  private readonly authWatchers = new Set<(signal: AuthSignal) => void>();
  private connectedOnce = false;
  private backendPid: number | undefined;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly heartbeatMs: number;
  private readonly backstopMs: number;

  constructor(
    private readonly directUrl: string,
    options: ListenerOptions = {},
  ) {
    this.minBackoffMs = options.minBackoffMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.backstopMs = options.backstopMs ?? 30_000;
    this.backoffMs = this.minBackoffMs;
  }

  get state(): ListenerState {
    return this.current;
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
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeatTimer);
    clearInterval(this.backstopTimer);
    const client = this.client;
    this.client = undefined;
    this.backendPid = undefined;
    await client?.end().catch(() => undefined);
  }

  watch(userId: string, onSignal: (signal: Signal) => void): () => void {
    return this.add(this.watchers, userId, userId, onSignal);
  }

  watchRun(userId: string, runId: string, onSignal: (signal: Signal) => void): () => void {
    return this.add(this.runWatchers, runId, userId, onSignal);
  }

  hold(userId: string): () => void {
    this.counts.set(userId, (this.counts.get(userId) ?? 0) + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(userId) ?? 1) - 1;
      if (left) this.counts.set(userId, left);
      else this.counts.delete(userId);
      this.total--;
    };
  }

  private add(index: Map<string, Set<(signal: Signal) => void>>, key: string, userId: string, onSignal: (signal: Signal) => void) {
    let set = index.get(key);
    if (!set) index.set(key, (set = new Set()));
    set.add(onSignal);
    const release = this.hold(userId);
    return () => {
      set.delete(onSignal);
      if (set.size === 0 && index.get(key) === set) index.delete(key);
      release();
    };
  }

  watchAuth(onSignal: (signal: AuthSignal) => void): () => void {
    this.authWatchers.add(onSignal);
    return () => this.authWatchers.delete(onSignal);
  }

  watcherCountOf(userId: string): number {
    return this.counts.get(userId) ?? 0;
  }

  /** Number of active watchers (for metrics and tests). */
  get watcherCount(): number {
    return this.total;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: parsePoolSettings(this.directUrl).connectionString,
      keepAlive: true,
      application_name: LISTENER_APPLICATION_NAME,
    });
    client.on('notification', (message) => {
      if (message.channel === AUTH_EVENTS_CHANNEL) return this.dispatchAuth(message.payload);
      if (message.channel !== RUN_EVENTS_CHANNEL) return;
      const event = parseRunEvent(message.payload);
      if (!event) {
        logger.warn('ignored a malformed run event', { payload: message.payload });
        return;
      }
      // Remembered only for runs someone here watches: the backstop compares nothing else.
      if (event.updatedAt && event.change !== 'deleted' && this.isWatched(event)) this.announced.set(event.runId, event.updatedAt);
      this.route(event);
    });
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
    this.current = 'listening';
    this.backoffMs = this.minBackoffMs;
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      client.query('SELECT 1').catch((err: unknown) => this.lost(client, err));
    }, this.heartbeatMs);
    this.heartbeatTimer.unref();
    // Changes from before this connection listened are covered by the resync below (or by the first reads).
    this.checkedAt = rows[0]?.now;
    clearInterval(this.backstopTimer);
    this.backstopTimer = setInterval(() => {
      this.backstop(client).catch((err: unknown) => logger.warn('backstop check of watched runs failed', { err }));
    }, this.backstopMs);
    this.backstopTimer.unref();

    if (this.connectedOnce) {
      logger.info('run event listener reconnected; resyncing subscriptions', { watchers: this.watcherCount });
      for (const userId of [...this.watchers.keys()]) this.dispatch(userId, { kind: 'resync' });
      for (const set of [...this.runWatchers.values()]) for (const onSignal of [...set]) this.call(onSignal, { kind: 'resync' });
      for (const onSignal of [...this.authWatchers]) this.call(onSignal, { kind: 'resync' });
    }
    this.connectedOnce = true;
  }

  private isWatched(event: RunEvent): boolean {
    return this.runWatchers.has(event.runId) || (event.userId !== null && this.watchers.has(event.userId));
  }

  /** An event reaches the watchers of its run and of its user. */
  private route(event: RunEvent): void {
    const signal: Signal = { kind: 'event', event };
    for (const onSignal of [...(this.runWatchers.get(event.runId) ?? [])]) this.call(onSignal, signal);
    if (event.userId) this.dispatch(event.userId, signal);
  }

  /**
   * One indexed query for the watched runs (and the runs of watched users) whose `updatedAt` moved since the
   * last check beyond what a notification announced: those are routed as if announced now.
   */
  private async backstop(client: pg.Client): Promise<void> {
    const runIds = [...this.runWatchers.keys()];
    const userIds = [...this.watchers.keys()];
    const { rows } = await client.query<{ at: Date; runs: Array<Required<Omit<RunEvent, 'userId'>> & { userId: string }> | null }>(
      `SELECT now() AS at, (SELECT json_agg(json_build_object('runId', r.id, 'userId', r."userId", 'change', 'updated',
                 'status', r.status, 'stage', r."currentStage", 'updatedAt', r."updatedAt"))
         FROM "Run" r WHERE r."updatedAt" > $1 AND (r.id = ANY($2::text[]) OR r."userId" = ANY($3::text[]))) AS runs`,
      [this.checkedAt, runIds, userIds],
    );
    this.checkedAt = rows[0]!.at;
    for (const event of rows[0]!.runs ?? []) {
      const seen = this.announced.get(event.runId);
      if (seen !== undefined && seen >= event.updatedAt) continue; // same formatting: comparable as text
      logger.warn('a run changed without a notification reaching this instance; sending its state now', { runId: event.runId });
      this.announced.set(event.runId, event.updatedAt);
      this.route(event);
    }
    // Only what a later check could still compare against is kept.
    for (const runId of this.announced.keys()) if (!this.runWatchers.has(runId)) this.announced.delete(runId);
  }

  private dispatch(userId: string, signal: Signal): void {
    for (const onSignal of [...(this.watchers.get(userId) ?? [])]) this.call(onSignal, signal);
  }

  private dispatchAuth(payload: string | undefined): void {
    const event = parseAuthEvent(payload);
    if (!event) return logger.warn('ignored a malformed auth event', { payload });
    for (const onSignal of [...this.authWatchers]) this.call(onSignal, { kind: 'event', event });
  }

  private call<S>(onSignal: (signal: S) => void, signal: S): void {
    try {
      onSignal(signal);
    } catch (err) {
      logger.error('an event watcher failed', { err });
    }
  }

  private lost(client: pg.Client, err: unknown): void {
    if (client !== this.client || this.current === 'stopped') return;
    this.client = undefined;
    this.backendPid = undefined;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.backstopTimer);
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
