/** What every resolver receives. Built once per operation by the one context factory (src/server/context.ts). */
import type { AuthUser } from '../auth/authenticate';
import type { LiveContext } from '../live/context';
import type { RunLifecycle } from '../runs/lifecycle';
import type { DocumentUrlChecker } from './document-url';

export interface Context extends LiveContext {
  /**
   * The signed-in user. Never null: the context factory refuses to build a context without one (HTTP 401,
   * WebSocket 4403), so every resolver may rely on it by type.
   */
  user: AuthUser;
  /** Which document URLs a run may carry (the pipeline fetches them). */
  documentUrls: DocumentUrlChecker;
  /** Starting, cancelling, retrying and deleting runs. */
  runs: RunLifecycle;
  /** The request's Idempotency-Key header (HTTP only; over a WebSocket createRun takes the argument). */
  idempotencyKeyHeader: string | undefined;
}
