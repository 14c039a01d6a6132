/**
 * Per-user rate limits that hold across every server instance, with PostgreSQL as the only shared state:
 * fixed windows counted in "RateLimitCounter" by one atomic upsert.
 *
 * Asking the database on every request would double the cost of a cheap query, so an instance claims
 * permits in chunks (`chunk`) and spends them locally; across N instances a user can get at most the limit,
 * and a few permits of a window may go unused. A rule with chunk 1 (createRun) is exact. Once a window is
 * exhausted the instance refuses locally until it ends.
 */
import { LRUCache } from 'lru-cache';
import type { Database } from './client';

export interface RateLimitRule {
  /** Names the limit in errors and in the counter key. */
  name: string;
  /** Permits per window; 0 turns the rule off. */
  limit: number;
  windowMs: number;
  /** Permits claimed from the shared counter at a time (default 1: exact). */
  chunk?: number;
}

export class RateLimitExceeded extends Error {
  override name = 'RateLimitExceeded';

  constructor(
    readonly rule: RateLimitRule,
    /** Seconds until the window ends and permits are available again. */
    readonly retryAfterSeconds: number,
  ) {
    super(`Rate limit ${rule.name} reached (${rule.limit} per ${describeWindow(rule.windowMs)}): try again in ${retryAfterSeconds} s`);
  }
}

function describeWindow(ms: number): string {
  if (ms === 60_000) return 'minute';
  if (ms === 86_400_000) return 'day';
  return `${ms / 1000} s`;
}

interface Lease {
  windowStart: number;
  /** Permits claimed by this instance and not spent yet; -1 when the window is exhausted everywhere. */
  remaining: number;
}

/** How long counters of past windows are kept (longer than the longest window). */
const RETENTION_MS = 2 * 86_400_000;
const CLEANUP_EVERY_MS = 10 * 60_000;

export class RateLimiter {
  private readonly leases = new LRUCache<string, Lease>({ max: 100_000 });
  private readonly claiming = new Map<string, Promise<void>>();
  private lastCleanup = 0;

  constructor(private readonly db: Database) {}

  /** Spends one permit of `rule` for `subject`, or throws RateLimitExceeded. */
  async consume(rule: RateLimitRule, subject: string): Promise<void> {
    if (rule.limit <= 0) return;
    const key = `${rule.name}:${subject}`;
    for (;;) {
      const now = Date.now();
      const windowStart = now - (now % rule.windowMs);
      const lease = this.leases.get(key);
      if (lease?.windowStart === windowStart) {
        if (lease.remaining > 0) {
          lease.remaining -= 1;
          return;
        }
        if (lease.remaining < 0) {
          throw new RateLimitExceeded(rule, Math.max(1, Math.ceil((windowStart + rule.windowMs - now) / 1000)));
        }
      }
      // One claim per key at a time: concurrent requests wait for it and share what it brings.
      let claiming = this.claiming.get(key);
      if (!claiming) {
        claiming = this.renew(key, rule, windowStart).finally(() => this.claiming.delete(key));
        this.claiming.set(key, claiming);
      }
      await claiming;
    }
  }

  private async renew(key: string, rule: RateLimitRule, windowStart: number): Promise<void> {
    const chunk = Math.max(1, Math.min(rule.chunk ?? 1, rule.limit));
    const granted = await this.claim(key, new Date(windowStart), chunk, rule.limit);
    this.leases.set(key, { windowStart, remaining: granted > 0 ? granted : -1 });
    this.cleanUpNowAndThen(Date.now());
  }

  /** Adds `chunk` to the shared counter; returns how many of those permits were still within the limit. */
  private async claim(key: string, windowStart: Date, chunk: number, limit: number): Promise<number> {
    const rows = await this.db.$queryRaw<{ count: number }[]>`
      INSERT INTO "RateLimitCounter" ("key", "windowStart", "count") VALUES (${key}, ${windowStart}, ${chunk})
      ON CONFLICT ("key", "windowStart") DO UPDATE SET "count" = "RateLimitCounter"."count" + ${chunk}
      RETURNING "count"`;
    const before = (rows[0]?.count ?? chunk) - chunk;
    return Math.max(0, Math.min(chunk, limit - before));
  }

  private cleanUpNowAndThen(now: number): void {
    if (now - this.lastCleanup < CLEANUP_EVERY_MS) return;
    this.lastCleanup = now;
    const before = new Date(now - RETENTION_MS);
    // Best effort: another instance may be doing the same; a failure only delays the cleanup.
    this.db.rateLimitCounter.deleteMany({ where: { windowStart: { lt: before } } }).catch(() => undefined);
  }
}

export interface QuotaSettings {
  requestsPerMinute: number;
  createRunPerMinute: number;
  createRunPerDay: number;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** The per-user limits of this API, by what they limit. */
export class UserQuotas {
  private readonly requests: RateLimitRule;
  private readonly runsPerMinute: RateLimitRule;
  private readonly runsPerDay: RateLimitRule;

  constructor(
    private readonly limiter: RateLimiter,
    settings: QuotaSettings,
  ) {
    // Requests are claimed in chunks of a twentieth of the limit; createRun exactly.
    this.requests = {
      name: 'requestsPerMinute',
      limit: settings.requestsPerMinute,
      windowMs: MINUTE,
      chunk: Math.ceil(settings.requestsPerMinute / 20),
    };
    this.runsPerMinute = { name: 'createRunPerMinute', limit: settings.createRunPerMinute, windowMs: MINUTE };
    this.runsPerDay = { name: 'createRunPerDay', limit: settings.createRunPerDay, windowMs: DAY };
  }

  /** One GraphQL operation (query, mutation or subscription) of this user. */
  request(userId: string): Promise<void> {
    return this.limiter.consume(this.requests, userId);
  }

  /** One new run: a job the pipeline will pay for. */
  async createRun(userId: string): Promise<void> {
    await this.limiter.consume(this.runsPerMinute, userId);
    await this.limiter.consume(this.runsPerDay, userId);
  }
}
