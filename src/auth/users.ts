/**
 * From a verified Clerk session to this database's user row. The first request of a Clerk user creates the
 * row (upsert by clerkId, safe under concurrent first requests, in one process or many); later requests
 * hit a short-lived cache instead of the database.
 */
import { createClerkClient } from '@clerk/backend';
import { LRUCache } from 'lru-cache';
import type { Database } from '../db/client';
import { Prisma } from '../generated/prisma/client';
import { logger } from '../logger';
import { AuthenticationError } from './errors';
import { isDeletedInClerk, lockClerkUser } from './lifecycle';
import type { SessionClaims } from './tokens';

export interface AuthUser {
  /** Database id: what every query filters by. */
  id: string;
  clerkId: string;
}

/** Where email and name come from when the session token does not carry them. */
export type ProfileSource = (clerkId: string) => Promise<{ email: string | undefined; name: string | undefined }>;

export function clerkProfileSource(secretKey: string, apiUrl: string): ProfileSource {
  const clerk = createClerkClient({ secretKey, apiUrl });
  return async (clerkId) => {
    const user = await clerk.users.getUser(clerkId);
    return { email: user.primaryEmailAddress?.emailAddress, name: user.fullName ?? undefined };
  };
}

export interface UserResolverOptions {
  db: Database;
  profiles?: ProfileSource;
  /** How long a clerkId → user mapping is trusted without asking the database (default 60 s). */
  ttlMs?: number;
  maxEntries?: number;
}

export interface UserResolver {
  (claims: SessionClaims): Promise<AuthUser>;
  /** Drops a user from the cache (deleted in Clerk): the next request asks the database. */
  forget(clerkId: string): void;
}

export const ACCOUNT_DELETED = 'This account was deleted: sign up again to use the app';

const MISSING_PROFILE =
  'The session token has no email claim and the server cannot look the user up. Either customise the Clerk ' +
  'session token (Clerk dashboard → Sessions → Customize session token: {"email": "{{user.primary_email_address}}", ' +
  '"name": "{{user.full_name}}"}) or set CLERK_SECRET_KEY so the server can ask Clerk.';

/** The user's row, created on their first request unless Clerk deleted them. */
async function findOrCreate(db: Database, profiles: ProfileSource | undefined, claims: SessionClaims): Promise<AuthUser> {
  const select = { id: true, clerkId: true } as const;
  const existing = await db.user.findUnique({ where: { clerkId: claims.clerkId }, select });
  if (existing) return existing;

  let { email, name } = claims;
  if (!email && profiles) {
    try {
      ({ email, name } = await profiles(claims.clerkId));
    } catch (error) {
      logger.error('could not read the user from the Clerk Backend API', { clerkId: claims.clerkId, err: error });
      throw new AuthenticationError('Could not read your profile from Clerk; try again shortly.');
    }
  }
  if (!email) throw new AuthenticationError(MISSING_PROFILE);

  try {
    // A still-valid token of a user deleted in Clerk must not bring them back as a new, empty user.
    return await db.$transaction(async (tx) => {
      await lockClerkUser(tx, claims.clerkId);
      if (await isDeletedInClerk(tx, claims.clerkId)) throw new AuthenticationError(ACCOUNT_DELETED);
      return tx.user.upsert({
        where: { clerkId: claims.clerkId },
        create: { clerkId: claims.clerkId, email, name: name ?? null },
        update: {},
        select,
      });
    });
  } catch (error) {
    // Another request created this user between our read and our write: use its row.
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      const winner = await db.user.findUnique({ where: { clerkId: claims.clerkId }, select });
      if (winner) return winner;
      throw new AuthenticationError(`The email ${email} already belongs to another account.`);
    }
    throw error;
  }
}

export function createUserResolver({ db, profiles, ttlMs = 60_000, maxEntries = 10_000 }: UserResolverOptions): UserResolver {
  const cache = new LRUCache<string, AuthUser>({ max: maxEntries, ttl: ttlMs });
  const pending = new Map<string, Promise<AuthUser>>();

  // A lookup that started before its user was forgotten (deleted meanwhile) must not fill the cache.
  let epoch = 0;
  const forgotten = new LRUCache<string, number>({ max: maxEntries });
  const rememberIfCurrent = (startedAt: number) => (user: AuthUser) => {
    if ((forgotten.get(user.clerkId) ?? 0) < startedAt) cache.set(user.clerkId, user);
    return user;
  };

  const resolve = async (claims: SessionClaims) => {
    const hit = cache.get(claims.clerkId);
    if (hit) return hit;
    // Concurrent first requests in this process share one lookup.
    let lookup = pending.get(claims.clerkId);
    if (!lookup) {
      const started = findOrCreate(db, profiles, claims)
        .then(rememberIfCurrent(++epoch))
        .finally(() => {
          if (pending.get(claims.clerkId) === started) pending.delete(claims.clerkId);
        });
      lookup = started;
      pending.set(claims.clerkId, lookup);
    }
    return lookup;
  };
  const forget = (clerkId: string) => {
    forgotten.set(clerkId, ++epoch);
    cache.delete(clerkId);
    pending.delete(clerkId);
  };
  return Object.assign(resolve, { forget });
}
