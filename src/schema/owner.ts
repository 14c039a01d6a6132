/**
 * "This user's runs and cards": the one place the ownership filter is written. Every query, mutation and
 * subscription reaches rows through it (nested fields only through rows reached this way), so another
 * user's id behaves exactly like one that does not exist, in the SQL itself.
 */
import type { Prisma } from '../generated/prisma/client';
import type { AuthUser } from '../auth/authenticate';

export interface Owner {
  userId: string;
  runs(where?: Prisma.RunWhereInput): Prisma.RunWhereInput;
  run(id: string): Prisma.RunWhereInput;
  cards(where?: Prisma.OpportunityCardWhereInput): Prisma.OpportunityCardWhereInput;
  card(id: string): Prisma.OpportunityCardWhereUniqueInput;
}

export function ownerOf({ user }: { user: AuthUser }): Owner {
  const userId = user.id;
  return {
    userId,
    runs: (where = {}) => ({ ...where, userId }),
    run: (id) => ({ id, userId }),
    cards: (where = {}) => ({ ...where, userId }),
    card: (id) => ({ id, userId }),
  };
}
