/**
 * The per-user limit on concurrent subscriptions on this instance (MAX_SUBSCRIPTIONS_PER_USER): every
 * subscription claims a place when it starts, whether it executes on its own or joins a shared execution
 * (src/live/shared-executions.ts), and gives it back when it ends, however it ends.
 */

/** A new subscription beyond the limit (the client sees RATE_LIMITED, src/schema/errors.ts). */
export class SubscriptionLimitReached extends Error {
  override name = 'SubscriptionLimitReached';

  constructor(readonly max: number) {
    super(`At most ${max} subscriptions may be open at once per user; close some first`);
  }
}

export class SubscriptionQuota {
  private readonly openByUser = new Map<string, number>();
  private total = 0;

  constructor(readonly maxPerUser: number) {}

  /** Subscriptions open on this instance. */
  get open(): number {
    return this.total;
  }

  /** Subscriptions of one user open on this instance. */
  openOf(userId: string): number {
    return this.openByUser.get(userId) ?? 0;
  }

  /** Claims a place for a new subscription of this user, or throws SubscriptionLimitReached; returns its release. */
  claim(userId: string): () => void {
    const open = this.openByUser.get(userId) ?? 0;
    if (open >= this.maxPerUser) throw new SubscriptionLimitReached(this.maxPerUser);
    this.openByUser.set(userId, open + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.openByUser.get(userId) ?? 1) - 1;
      if (left) this.openByUser.set(userId, left);
      else this.openByUser.delete(userId);
      this.total--;
    };
  }
}
