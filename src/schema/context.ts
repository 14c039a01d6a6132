/** What every resolver receives. Built once per request by src/server/context.ts. */
import type { AuthUser } from '../auth/users';
import type { Database } from '../db/client';
import type { EventSource } from '../db/events';
import type { UserQuotas } from '../db/rate-limits';
import { unauthenticated } from './errors';
import type { Loaders } from './loaders';

export interface Context {
  db: Database;
  /** The signed-in user, or null when the request carried no token. */
  user: AuthUser | null;
  loaders: Loaders;
  /** Run change notifications from the database (subscriptions). */
  events: EventSource;
  /** Per-user rate limits shared by every instance. */
  quotas: UserQuotas;
  /** Concurrent subscriptions one user may hold on this instance. */
  maxSubscriptionsPerUser: number;
}

/**
 * The signed-in user. Root fields are guarded by the `authenticated` scope, so this only throws if a resolver
 * runs outside that guard; every query then filters by the returned id.
 */
export function currentUser(context: Context): AuthUser {
  if (!context.user) throw unauthenticated();
  return context.user;
}
