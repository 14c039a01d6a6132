/**
 * Clerk's user lifecycle, applied from verified webhooks: profiles upserted, deleted users removed with all
 * their data, ended sessions recorded and announced to every instance. Each delivery (svix-id) is applied at
 * most once, in one transaction with everything it changes, so a replay or a concurrent duplicate changes
 * nothing and a failure leaves nothing half-done (Svix then delivers it again).
 */
import { z } from 'zod';
import type { Database } from '../db/client';
import { notifyAuthEvent } from '../db/events';
import type { Prisma } from '../generated/prisma/client';

/** What applying a delivery did: `replayed` (this svix-id was applied before), `stale` (a newer state is already applied). */
export type WebhookOutcome = 'applied' | 'replayed' | 'stale' | 'ignored';

export const HANDLED_EVENT_TYPES = [
  'user.created',
  'user.updated',
  'user.deleted',
  'session.revoked',
  'session.ended',
  'session.removed',
] as const;
type HandledType = (typeof HANDLED_EVENT_TYPES)[number];

/** A verified delivery whose content is not what Clerk sends: the message names the field. */
export class WebhookPayloadError extends Error {
  override name = 'WebhookPayloadError';
}

export interface ClerkDelivery {
  /** The svix-id header: the same for every retry of one delivery. */
  id: string;
  type: string;
  /** The event's own time (ms since the epoch). */
  timestamp: number | undefined;
  data: unknown;
}

export interface LifecycleOptions {
  /** How long a revoked session is remembered: longer than any accepted token lives. */
  maxTokenLifetimeSeconds: number;
}

const text = z.string().min(1);
const userPayload = z.object({
  id: text,
  updated_at: z.number().int().nonnegative(),
  first_name: z.string().nullish(),
  last_name: z.string().nullish(),
  primary_email_address_id: z.string().nullish(),
  email_addresses: z.array(z.object({ id: text, email_address: text })),
});
const deletedUserPayload = z.object({ id: text });
const sessionPayload = z.object({ id: text, user_id: text });

function parse<T>(schema: z.ZodType<T>, data: unknown): T {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new WebhookPayloadError(`malformed event: data.${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

type Tx = Prisma.TransactionClient;

/**
 * Serialises every change to one Clerk user's row (webhooks and first-request creation) for the rest of the
 * transaction: a deletion and a concurrent first request can then never leave a re-created user behind.
 */
export async function lockClerkUser(tx: Pick<Tx, '$executeRaw'>, clerkId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`clerk-user:${clerkId}`}, 0))`;
}

/**
 * Removes a user Clerk no longer has, as its user.deleted webhook would: the deletion recorded, the row and its
 * data gone, every instance told.
 */
export function removeClerkUser(db: Database, clerkId: string, deletedAt: Date): Promise<WebhookOutcome> {
  return db.$transaction((tx) => deleteUser(tx, clerkId, deletedAt), { timeout: 60_000, maxWait: 10_000 });
}

/** Whether Clerk deleted this user (and has not created them again since). */
export async function isDeletedInClerk(tx: Pick<Tx, 'clerkUserState'>, clerkId: string): Promise<boolean> {
  const state = await tx.clerkUserState.findUnique({ where: { clerkId }, select: { deletedAt: true } });
  return Boolean(state?.deletedAt);
}

function isHandled(type: string): type is HandledType {
  return (HANDLED_EVENT_TYPES as readonly string[]).includes(type);
}

/** Applies one verified delivery; unknown event types are `ignored` and write nothing. */
export async function applyClerkDelivery(db: Database, delivery: ClerkDelivery, options: LifecycleOptions): Promise<WebhookOutcome> {
  const { type } = delivery;
  if (!isHandled(type)) return 'ignored';
  // Validated before the transaction: a malformed event writes nothing, not even its id.
  const apply = prepare(type, delivery, options);
  // A user's deletion cascades through all their runs in this one transaction: allow it time.
  return db.$transaction(
    async (tx) => {
      const recorded =
        await tx.$executeRaw`INSERT INTO "ProcessedWebhook" ("id", "type") VALUES (${delivery.id}, ${type}) ON CONFLICT ("id") DO NOTHING`;
      if (recorded === 0) return 'replayed';
      return apply(tx);
    },
    { timeout: 60_000, maxWait: 10_000 },
  );
}

function prepare(type: HandledType, delivery: ClerkDelivery, options: LifecycleOptions): (tx: Tx) => Promise<WebhookOutcome> {
  switch (type) {
    case 'user.created':
    case 'user.updated': {
      const user = parse(userPayload, delivery.data);
      return (tx) => upsertUser(tx, user, type === 'user.created');
    }
    case 'user.deleted': {
      const { id } = parse(deletedUserPayload, delivery.data);
      if (delivery.timestamp === undefined) throw new WebhookPayloadError('malformed event: timestamp: required for user.deleted');
      const deletedAt = new Date(delivery.timestamp);
      return (tx) => deleteUser(tx, id, deletedAt);
    }
    default: {
      const session = parse(sessionPayload, delivery.data);
      const forgetAfter = new Date(Date.now() + options.maxTokenLifetimeSeconds * 1000);
      return (tx) => revokeSession(tx, session.id, session.user_id, forgetAfter);
    }
  }
}

type UserPayload = z.infer<typeof userPayload>;

async function upsertUser(tx: Tx, user: UserPayload, created: boolean): Promise<WebhookOutcome> {
  const clerkId = user.id;
  const version = new Date(user.updated_at);
  await lockClerkUser(tx, clerkId);
  const state = await tx.clerkUserState.findUnique({ where: { clerkId } });
  if (state && state.clerkUpdatedAt >= version) return 'stale';
  // Only user.created brings a deleted user back; a late update of a deleted user does not.
  if (state?.deletedAt && !created) return 'stale';
  await tx.clerkUserState.upsert({
    where: { clerkId },
    create: { clerkId, clerkUpdatedAt: version },
    update: { clerkUpdatedAt: version, deletedAt: null },
  });
  const email = (user.email_addresses.find((address) => address.id === user.primary_email_address_id) ?? user.email_addresses[0])
    ?.email_address;
  const name = [user.first_name, user.last_name].filter(Boolean).join(' ') || null;
  // A user without an email address (phone-only sign-up) cannot have a row: the schema requires one.
  if (!email) {
    await tx.user.updateMany({ where: { clerkId }, data: { name } });
    return 'applied';
  }
  await tx.user.upsert({ where: { clerkId }, create: { clerkId, email, name }, update: { email, name } });
  return 'applied';
}

async function deleteUser(tx: Tx, clerkId: string, deletedAt: Date): Promise<WebhookOutcome> {
  await lockClerkUser(tx, clerkId);
  const state = await tx.clerkUserState.findUnique({ where: { clerkId } });
  if (state && state.clerkUpdatedAt > deletedAt) return 'stale'; // re-created after this deletion
  await tx.clerkUserState.upsert({
    where: { clerkId },
    create: { clerkId, clerkUpdatedAt: deletedAt, deletedAt },
    update: { clerkUpdatedAt: deletedAt, deletedAt },
  });
  // The schema's cascades remove the user's runs, cards, reports and stage outputs with the row.
  const user = await tx.user.findUnique({ where: { clerkId }, select: { id: true } });
  if (user) await tx.user.delete({ where: { id: user.id } });
  await notifyAuthEvent(tx, { kind: 'user-deleted', clerkId, userId: user?.id ?? null });
  return 'applied';
}

async function revokeSession(tx: Tx, sessionId: string, clerkId: string, forgetAfter: Date): Promise<WebhookOutcome> {
  await tx.$executeRaw`INSERT INTO "RevokedSession" ("sessionId", "clerkId", "forgetAfter") VALUES (${sessionId}, ${clerkId}, ${forgetAfter})
    ON CONFLICT ("sessionId") DO NOTHING`;
  await notifyAuthEvent(tx, { kind: 'session-revoked', sessionId, clerkId, forgetAfter: forgetAfter.toISOString() });
  return 'applied';
}

/** Deletes processed webhook ids past their retention and revoked sessions no token can outlive any more. */
export async function purgeExpired(db: Database, retentionDays: number): Promise<void> {
  const before = new Date(Date.now() - retentionDays * 86_400_000);
  await db.processedWebhook.deleteMany({ where: { processedAt: { lt: before } } });
  await db.revokedSession.deleteMany({ where: { forgetAfter: { lt: new Date() } } });
}
