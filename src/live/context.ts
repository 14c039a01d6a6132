/** What the live path needs of an operation's context (src/schema/context.ts extends it). */
import type { Revocations } from '../auth/revocations';
import type { Database } from '../db/client';
import type { SubscriptionQuota } from './quota';
import type { SharedReads } from './shared-reads';
import type { Watchers } from './watchers';

/** The instance's services the live path uses, built once per server (src/server/app.ts). */
export interface LiveServices {
  db: Database;
  /** Sessions revoked and users deleted in Clerk: a live stream ends when its session or user does. */
  revocations: Revocations;
  /** Who watches which run on this instance. */
  watchers: Watchers;
  /** Concurrent subscriptions per user on this instance. */
  subscriptionQuota: SubscriptionQuota;
  /** Identical reads of one run by many subscribers at once, made once. */
  sharedReads: SharedReads;
}

export interface LiveContext {
  services: LiveServices;
  user: { id: string; clerkId: string };
  /** Clerk's session id (`sid`) of the token this operation was authenticated with. */
  sessionId: string;
  /**
   * When this operation's live streams end because its session token has expired (ms since the epoch, the
   * grace included): an SSE stream gets a last UNAUTHENTICATED message then. Undefined over WebSocket, whose
   * connection is closed as a whole (4401).
   */
  liveUntil: number | undefined;
}
