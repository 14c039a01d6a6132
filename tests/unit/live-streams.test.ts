/** The live path's pure parts: the one-slot stream (src/live/newest-value.ts) and the per-user quota (src/live/quota.ts). */
import { NewestValue } from '../../src/live/newest-value';
import { SubscriptionLimitReached, SubscriptionQuota } from '../../src/live/quota';

describe('NewestValue', () => {
  it('hands a value to a waiting consumer at once', async () => {
    const stream = new NewestValue<number>();
    const next = stream.next();
    stream.push(1);
    expect(await next).toEqual({ value: 1, done: false });
  });

  it('keeps only the newest of values pushed while nobody waits, and says so once per value gone', async () => {
    const emptied: number[] = [];
    class Counting extends NewestValue<number> {
      protected override slotEmptied(): void {
        emptied.push(emptied.length);
      }
      get isFull(): boolean {
        return this.full;
      }
    }
    const stream = new Counting();
    stream.push(1);
    stream.push(2); // replaces 1
    stream.push(3); // replaces 2
    expect(stream.isFull).toBe(true);
    expect(await stream.next()).toEqual({ value: 3, done: false }); // taken
    expect(stream.isFull).toBe(false);
    expect(emptied).toHaveLength(3);
  });

  it('delivers what is in the slot before the end, and an error once after it', async () => {
    const stream = new NewestValue<string>();
    stream.push('last');
    stream.stop(new Error('boom'));
    stream.push('ignored');
    expect(await stream.next()).toEqual({ value: 'last', done: false });
    await expect(stream.next()).rejects.toThrow('boom');
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('ends a waiting consumer when stopped, and drops the slot when the consumer lets go', async () => {
    const waiting = new NewestValue<number>();
    const next = waiting.next();
    waiting.stop();
    expect(await next).toEqual({ value: undefined, done: true });

    const abandoned = new NewestValue<number>();
    abandoned.push(1);
    expect(await abandoned.return()).toEqual({ value: undefined, done: true });
    expect(await abandoned.next()).toEqual({ value: undefined, done: true });
  });
});

describe('SubscriptionQuota', () => {
  it('counts per user, refuses beyond the limit, and a release gives back one place, once', () => {
    const quota = new SubscriptionQuota(2);
    const first = quota.claim('alice');
    quota.claim('alice');
    quota.claim('bob');
    expect(() => quota.claim('alice')).toThrow(SubscriptionLimitReached);
    expect([quota.open, quota.openOf('alice'), quota.openOf('bob')]).toEqual([3, 2, 1]);
    first();
    first();
    expect([quota.open, quota.openOf('alice')]).toEqual([2, 1]);
    expect(() => quota.claim('alice')).not.toThrow();
  });
});
