/**
 * From a verified Clerk session to this database's user row. The first request of a Clerk user creates the
 * row (upsert by clerkId, safe under concurrent first requests, in one process or many); later requests
 * hit a short-lived cache instead of the database. An email held by the row of a user Clerk no longer has (its
 * user.deleted webhook recorded, or the Backend API answering 404; a deletion whose webhook never arrived)
 * gives way: that row is deleted as the webhook would have, and the new user gets in.
 */
import { createClerkClient } from '@clerk/backend';
import { LRUCache } from 'lru-cache';
import type { Database } from '../db/client';
import { Prisma } from '../generated/prisma/client';
import { logger } from '../logger';
import { AuthenticationError } from './errors';
import { isDeletedInClerk, lockClerkUser, removeClerkUser } from './lifecycle';
import type { SessionClaims } from './tokens';

export interface AuthUser {
  /** Database id: what every query filters by. */
  id: string;
  clerkId: string;
}

/** What Clerk's Backend API says of a user (CLERK_SECRET_KEY): where email and name come from when the token does not carry them. */
export interface ClerkUsers {
  profile(clerkId: string): Promise<{ email: string | undefined; name: string | undefined }>;
  /** False when Clerk has no such user (404); a failure to ask is thrown. */
  exists(clerkId: string): Promise<boolean>;
}

export function clerkUsers(secretKey: string, apiUrl: string): ClerkUsers {
  const clerk = createClerkClient({ secretKey, apiUrl });
  return {
    async profile(clerkId) {
      const user = await clerk.users.getUser(clerkId);
      return { email: user.primaryEmailAddress?.emailAddress, name: user.fullName ?? undefined };
    },
    async exists(clerkId) {
      try {
        await clerk.users.getUser(clerkId);
        return true;
      } catch (error) {
        if ((error as { status?: unknown }).status === 404) return false;
        throw error;
      }
    },
  };
}

export interface UserResolverOptions {
  db: Database;
  clerk?: ClerkUsers;
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

/** Whether the holder of a row is a user Clerk no longer has: its deletion recorded, or Clerk saying so. */
async function goneFromClerk(db: Database, clerk: ClerkUsers | undefined, clerkId: string): Promise<boolean> {
  if (await isDeletedInClerk(db, clerkId)) return true;
  if (!clerk) return false;
  try {
    return !(await clerk.exists(clerkId));
  } catch (error) {
    logger.warn('could not ask the Clerk Backend API whether a user still exists', { clerkId, err: error });
    return false;
  }
}

/** The user's row, created on their first request unless Clerk deleted them. */
async function findOrCreate(db: Database, clerk: ClerkUsers | undefined, claims: SessionClaims, retried = false): Promise<AuthUser> {
  const select = { id: true, clerkId: true } as const;
  const existing = await db.user.findUnique({ where: { clerkId: claims.clerkId }, select });
  if (existing) return existing;

  let { email, name } = claims;
  if (!email && clerk) {
    try {
      ({ email, name } = await clerk.profile(claims.clerkId));
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
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      // Another request created this user between our read and our write: use its row.
      const winner = await db.user.findUnique({ where: { clerkId: claims.clerkId }, select });
      if (winner) return winner;
      // The email is another row's: if that user is gone from Clerk, the row gives way (once).
      const holder = await db.user.findUnique({ where: { email }, select: { clerkId: true } });
      if (holder && !retried && (await goneFromClerk(db, clerk, holder.clerkId))) {
        logger.warn('a new Clerk user holds the email of a user Clerk no longer has: that user and their data are removed', {
          clerkId: claims.clerkId,
          removedClerkId: holder.clerkId,
        });
        await removeClerkUser(db, holder.clerkId, new Date());
        return findOrCreate(db, clerk, claims, true);
      }
      throw new AuthenticationError(`The email ${email} already belongs to another account.`);
    }
    throw error;
  }
}

export function createUserResolver({ db, clerk, ttlMs = 60_000, maxEntries = 10_000 }: UserResolverOptions): UserResolver {
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
      const started = findOrCreate(db, clerk, claims)
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
