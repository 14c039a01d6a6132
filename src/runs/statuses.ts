/** Which statuses end a run's life, and which a user may move a run out of. */
import { RunStatus } from '../generated/prisma/enums';

/** Nothing more happens to a run in these by itself: live streams end on them. */
export const TERMINAL_STATUSES: ReadonlySet<RunStatus> = new Set([RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED]);

/** cancelRun stops a run in these. */
export const CANCELLABLE_STATUSES: readonly RunStatus[] = [RunStatus.PENDING, RunStatus.RUNNING];

/** retryRun puts a run in these back in the queue. */
export const RETRYABLE_STATUSES: readonly RunStatus[] = [RunStatus.FAILED, RunStatus.CANCELLED];
