/**
 * "This user's runs and cards": the one place the ownership filter is written. Every query, mutation and
 * subscription reaches rows through it (nested fields only through rows reached this way), so another
 * user's id behaves exactly like one that does not exist, in the SQL itself.
 */
import { Prisma } from '../generated/prisma/client';
import type { AuthUser } from './authenticate';

/** A class, not an object of closures: every subscription holds one for as long as it is open. */
export class Owner {
  constructor(readonly userId: string) {}

  runs(where: Prisma.RunWhereInput = {}): Prisma.RunWhereInput {
    return { ...where, userId: this.userId };
  }

  run(id: string): Prisma.RunWhereInput {
    return { id, userId: this.userId };
  }

  cards(where: Prisma.OpportunityCardWhereInput = {}): Prisma.OpportunityCardWhereInput {
    return { ...where, userId: this.userId };
  }

  card(id: string): Prisma.OpportunityCardWhereUniqueInput {
    return { id, userId: this.userId };
  }

  /** The same rule for SQL written by hand (src/runs/run-reads.ts, src/auth/me.ts): the `userId` of the row `alias` is the owner's. */
  ownsRow(alias: string): Prisma.Sql {
    return Prisma.sql`${Prisma.raw(`${alias}."userId"`)} = ${this.userId}`;
  }

  /** For SQL written by hand (src/auth/me.ts): the User row `alias` is the owner. */
  isUser(alias: string): Prisma.Sql {
    return Prisma.sql`${Prisma.raw(`${alias}.id`)} = ${this.userId}`;
  }
}

export function ownerOf({ user }: { user: AuthUser }): Owner {
  return new Owner(user.id);
}
