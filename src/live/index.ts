/**
 * Live updates, for the server to wire in once: who is watching which run (watchers.ts), the per-user limit
 * (quota.ts), reads shared by subscribers woken together (shared-reads.ts) and executions shared by identical
 * subscribers (shared-executions.ts). The streams themselves are follow-runs.ts and stream.ts.
 */
import type { EventSource } from '../db/events';
import { SubscriptionQuota } from './quota';
import { SharedReads } from './shared-reads';
import { sharedExecutions, type SharedExecutions } from './shared-executions';
import { Watchers, type WatchersOptions } from './watchers';

export interface Live {
  watchers: Watchers;
  subscriptionQuota: SubscriptionQuota;
  sharedReads: SharedReads;
  sharedExecutions: SharedExecutions;
  stop(): void;
}

export function createLive(
  events: EventSource,
  { maxSubscriptionsPerUser, ...options }: { maxSubscriptionsPerUser: number } & WatchersOptions,
): Live {
  const watchers = new Watchers(events, options);
  return {
    watchers,
    subscriptionQuota: new SubscriptionQuota(maxSubscriptionsPerUser),
    sharedReads: new SharedReads(),
    sharedExecutions: sharedExecutions(),
    stop: () => watchers.stop(),
  };
}
