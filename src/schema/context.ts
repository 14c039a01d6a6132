/** What every resolver receives. Built once per operation by the one context factory (src/server/context.ts). */
import type { AuthUser } from '../auth/authenticate';
import type { Revocations } from '../auth/revocations';
import type { Database } from '../db/client';
import type { EventSource } from '../db/events';
import type { UserQuotas } from '../db/rate-limits';
import type { DocumentUrlChecker } from './document-url';
import type { SharedReads } from './shared-reads';

export interface Context {
  db: Database;
  /**
   * The signed-in user. Never null: the context factory refuses to build a context without one (HTTP 401,
   * WebSocket 4403), so every resolver may rely on it by type.
   */
  user: AuthUser;
  /** Clerk's session id (`sid`) of the token this operation was authenticated with. */
  sessionId: string;
  /**
   * When this operation's live streams end because its session token has expired (ms since the epoch, the
   * grace included): an SSE stream gets a last UNAUTHENTICATED message then. Undefined over WebSocket, whose
   * connection is closed as a whole (4401).
   */
  liveUntil: number | undefined;
  /** Sessions revoked and users deleted in Clerk: a live stream ends when its session or user does. */
  revocations: Revocations;
  /** Run change notifications from the database (subscriptions). */
  events: EventSource;
  /** Identical reads of one run by many subscribers at once, made once. */
  sharedReads: SharedReads;
  /** Per-user rate limits shared by every instance. */
  quotas: UserQuotas;
  /** Which document URLs a run may carry (the pipeline fetches them). */
  documentUrls: DocumentUrlChecker;
  /** How many times one run may be retried. */
  maxRetriesPerRun: number;
  /** Concurrent subscriptions one user may hold on this instance. */
  maxSubscriptionsPerUser: number;
}
