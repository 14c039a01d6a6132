/** The cache of verified session tokens never outlives a token's exp, and stays bounded. */
import { VerifiedTokens } from '../../src/auth/tokens';

const claims = (expiresAt: number) => ({ clerkId: 'user_1', email: undefined, name: undefined, sessionId: 'sess_1', expiresAt });

it('answers for a token until its exp, and not a millisecond after', () => {
  let now = 1_000_000_000_000;
  const cache = new VerifiedTokens(10, () => now);
  cache.remember('t1', claims(now / 1000 + 60));
  expect(cache.get('t1')?.clerkId).toBe('user_1');
  now += 59_999;
  expect(cache.get('t1')).toBeDefined();
  now += 1;
  expect(cache.get('t1')).toBeUndefined();
  expect(cache.get('t1')).toBeUndefined(); // and forgets it
});

it('never remembers a token that has already expired, nor an unknown one', () => {
  const now = 1_000_000_000_000;
  const cache = new VerifiedTokens(10, () => now);
  cache.remember('old', claims(now / 1000 - 1));
  expect(cache.get('old')).toBeUndefined();
  expect(cache.get('never-seen')).toBeUndefined();
});

it('keeps at most `max` tokens, dropping the least recently used', () => {
  const now = 1_000_000_000_000;
  const cache = new VerifiedTokens(2, () => now);
  cache.remember('a', claims(now / 1000 + 60));
  cache.remember('b', claims(now / 1000 + 60));
  cache.get('a');
  cache.remember('c', claims(now / 1000 + 60));
  expect(cache.get('b')).toBeUndefined();
  expect(cache.get('a')).toBeDefined();
  expect(cache.get('c')).toBeDefined();
});
