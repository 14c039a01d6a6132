/**
 * Sessions revoked and users deleted in Clerk, known to every instance at once. Revoked session ids live in
 * memory (loaded at start, kept current by the auth_events NOTIFY channel whichever instance took the webhook,
 * reloaded after the listener reconnects), so refusing a revoked session's token costs no database query.
 * Listeners close what an ended session or a deleted user still has open: WebSockets, SSE streams, caches.
 */
import type { Database } from '../db/client';
import type { AuthEvent, EventSource } from '../db/events';
import { logger } from '../logger';

/** Access that has just ended: one session, or every session of a deleted user. */
export type EndedAccess = { kind: 'session'; sessionId: string; clerkId: string } | { kind: 'user'; clerkId: string };

/** Whose access an operation runs with. */
export interface OperationSession {
  clerkId: string;
  sessionId: string | undefined;
}

export function endsAccessOf(ended: EndedAccess, session: OperationSession): boolean {
  return ended.kind === 'session' ? ended.sessionId === session.sessionId : ended.clerkId === session.clerkId;
}

/** The one-line reason given to a client whose access ended (WebSocket close reason, error message). */
export function describeEnded(ended: EndedAccess): string {
  return ended.kind === 'session' ? 'Session ended or revoked: sign in again' : 'Account deleted';
}

export class Revocations {
  /** Revoked session id → when it may be forgotten (ms since the epoch). */
  private readonly revoked = new Map<string, number>();
  /** Deleted users already announced to the listeners (so a reload does not announce them again) → when. */
  private readonly deleted = new Map<string, number>();
  private readonly listeners = new Set<(ended: EndedAccess) => void>();
  private unwatch: (() => void) | undefined;
  private loaded = false;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    /** How far back a reload looks for deletions: no token of a user deleted earlier is still valid. */
    private readonly maxTokenLifetimeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Follows the auth events first, then loads what was revoked before: nothing falls in between. A server
   * may start while its database is unreachable or not migrated yet (/ready says so); the load is then
   * retried before the first authentication instead (see `ensureLoaded`).
   */
  async start(events: EventSource): Promise<void> {
    this.unwatch = events.onAuthSignal((signal) => {
      if (signal.kind === 'event') return this.apply(signal.event);
      this.load().catch((err: unknown) => logger.error('could not reload revoked sessions', { err }));
    });
    await this.ensureLoaded().catch((err: unknown) =>
      logger.warn('revoked sessions not loaded yet; retrying before the first sign-in', { err }),
    );
  }

  /** Resolves once the revocations are in memory: no token is accepted before then (it fails closed). */
  ensureLoaded(): Promise<void> {
    if (this.loaded) return Promise.resolve();
    this.loading ??= this.load()
      .then(() => void (this.loaded = true))
      .finally(() => (this.loading = undefined));
    return this.loading;
  }

  get isLoaded(): boolean {
    return this.loaded;
  }

  stop(): void {
    this.unwatch?.();
  }

  isRevoked(sessionId: string): boolean {
    const forgetAfter = this.revoked.get(sessionId);
    if (forgetAfter === undefined) return false;
    if (forgetAfter > this.now()) return true;
    this.revoked.delete(sessionId);
    return false;
  }

  /** Calls `listener` whenever a session ends or a user is deleted; returns the unsubscribe. */
  onEnded(listener: (ended: EndedAccess) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private apply(event: AuthEvent): void {
    if (event.kind === 'session-revoked') {
      this.revoked.set(event.sessionId, Date.parse(event.forgetAfter));
      this.announce({ kind: 'session', sessionId: event.sessionId, clerkId: event.clerkId });
    } else {
      this.deleted.set(event.clerkId, this.now());
      this.announce({ kind: 'user', clerkId: event.clerkId });
    }
    this.sweep();
  }

  /** Forgets what no accepted token can be affected by any more (revocations are rare: a full pass is cheap). */
  private sweep(): void {
    const now = this.now();
    for (const [sessionId, forgetAfter] of this.revoked) if (forgetAfter <= now) this.revoked.delete(sessionId);
    for (const [clerkId, at] of this.deleted) if (at + this.maxTokenLifetimeMs <= now) this.deleted.delete(clerkId);
  }

  /** Loads the revocations still in force; those this instance had not heard of are announced now. */
  private async load(): Promise<void> {
    const now = new Date(this.now());
    const [sessions, users] = await Promise.all([
      this.db.revokedSession.findMany({
        where: { forgetAfter: { gt: now } },
        select: { sessionId: true, clerkId: true, forgetAfter: true },
      }),
      this.db.clerkUserState.findMany({
        where: { deletedAt: { gt: new Date(now.getTime() - this.maxTokenLifetimeMs) } },
        select: { clerkId: true, deletedAt: true },
      }),
    ]);
    for (const { sessionId, clerkId, forgetAfter } of sessions) {
      if (this.revoked.has(sessionId)) continue;
      this.revoked.set(sessionId, forgetAfter.getTime());
      this.announce({ kind: 'session', sessionId, clerkId });
    }
    for (const { clerkId, deletedAt } of users) {
      if (this.deleted.has(clerkId)) continue;
      this.deleted.set(clerkId, deletedAt!.getTime());
      this.announce({ kind: 'user', clerkId });
    }
    this.sweep();
  }

  private announce(ended: EndedAccess): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(ended);
      } catch (err) {
        logger.error('closing access after a revocation failed', { err });
      }
    }
  }
}
