/** A request that cannot be signed in: no token, a token that is not acceptable, or a user that cannot be resolved. */
export class AuthenticationError extends Error {
  override name = 'AuthenticationError';
}
