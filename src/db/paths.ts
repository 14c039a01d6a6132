/** Where the Prisma schema and migration folders live (the paths prisma.config.ts names). */
import path from 'node:path';
import { PROJECT_ROOT } from '../config';

export const SCHEMA_PATH = path.join(PROJECT_ROOT, 'prisma', 'schema.prisma');
export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'prisma', 'migrations');
