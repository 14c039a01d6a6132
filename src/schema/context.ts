/** What every resolver receives. Built once per operation by the one context factory (src/server/context.ts). */
import type { AuthUser } from '../auth/authenticate';
import type { LiveContext, LiveServices } from '../live/context';
import type { Runs } from '../runs/runs';

/** The instance's services, built once per server and shared by every operation's context. */
export interface Services extends LiveServices {
  /** Starting, listing, cancelling, retrying and deleting runs. */
  runs: Runs;
}

export interface Context extends LiveContext {
  services: Services;
  /**
   * The signed-in user. Never null: the context factory refuses to build a context without one (HTTP 401,
   * WebSocket 4403), so every resolver may rely on it by type.
   */
  user: AuthUser;
  /** The request's Idempotency-Key header (HTTP only; over a WebSocket createRun takes the argument). */
  idempotencyKeyHeader: string | undefined;
}
