/**
 * The in-memory revocations against a real database, with the event source under the test's control: what
 * an instance missed while its LISTEN connection was down is found on the reload after the reconnect, and
 * what no token can outlive is forgotten.
 */
import { Revocations, type EndedAccess } from '../../src/auth/revocations';
import type { AuthSignal, EventSource } from '../../src/db/events';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

/** An event source whose auth signals the test sends. */
function controlledEvents() {
  let send: ((signal: AuthSignal) => void) | undefined;
  const events = {
    onAuthSignal: (onSignal: (signal: AuthSignal) => void) => {
      send = onSignal;
      return () => (send = undefined);
    },
  } as unknown as EventSource;
  return { events, send: (signal: AuthSignal) => send?.(signal) };
}

const waitUntil = async (condition: () => boolean) => {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
};

it('loads revocations at start, and after a reconnect announces the ones it missed, once', async () => {
  const hour = 3_600_000;
  await db.prisma.revokedSession.create({
    data: { sessionId: 'sess_before', clerkId: 'user_a', forgetAfter: new Date(Date.now() + hour) },
  });
  await db.prisma.revokedSession.create({ data: { sessionId: 'sess_old', clerkId: 'user_a', forgetAfter: new Date(Date.now() - 1000) } });
  const { events, send } = controlledEvents();
  const revocations = new Revocations(db.prisma, hour);
  await revocations.start(events);
  expect(revocations.isRevoked('sess_before')).toBe(true);
  expect(revocations.isRevoked('sess_old')).toBe(false);
  expect(revocations.isRevoked('sess_unknown')).toBe(false);

  const ended: EndedAccess[] = [];
  revocations.onEnded((access) => ended.push(access));
  // Written (by another instance) while this one's LISTEN connection was down: no event arrived.
  await db.prisma.revokedSession.create({
    data: { sessionId: 'sess_missed', clerkId: 'user_b', forgetAfter: new Date(Date.now() + hour) },
  });
  await db.prisma.clerkUserState.create({ data: { clerkId: 'user_gone', clerkUpdatedAt: new Date(), deletedAt: new Date() } });
  expect(revocations.isRevoked('sess_missed')).toBe(false);
  send({ kind: 'resync' });
  await waitUntil(() => ended.length === 2);
  expect(ended).toEqual([
    { kind: 'session', sessionId: 'sess_missed', clerkId: 'user_b' },
    { kind: 'user', clerkId: 'user_gone' },
  ]);
  expect(revocations.isRevoked('sess_missed')).toBe(true);

  // A second reload announces nothing new; an event does, and is remembered until its forgetAfter only.
  send({ kind: 'resync' });
  send({
    kind: 'event',
    event: { kind: 'session-revoked', sessionId: 'sess_brief', clerkId: 'user_c', forgetAfter: new Date(Date.now() + 50).toISOString() },
  });
  await waitUntil(() => ended.length === 3);
  expect(revocations.isRevoked('sess_brief')).toBe(true);
  await new Promise((resolve) => setTimeout(resolve, 80));
  expect(revocations.isRevoked('sess_brief')).toBe(false);
  expect(ended).toHaveLength(3);
  revocations.stop();
});
