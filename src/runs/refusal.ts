/**
 * A lifecycle rule refusing what a user asked of a run (it is not theirs, it is in the wrong state, a key was
 * reused for another input). The error table (src/schema/errors.ts) gives it its client code.
 */
export class RunRefusal extends Error {
  override name = 'RunRefusal';

  constructor(
    readonly code: 'NOT_FOUND' | 'CONFLICT',
    message: string,
    /** Extensions the client gets beside the code (what limit, which status). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const runNotFound = () => new RunRefusal('NOT_FOUND', 'Run not found');
