/**
 * How a worker claims a run, in the SQL the simulator (scripts/simulate.ts) sends; examples/pipeline_worker.py and
 * docs/pipeline.md hold the same statements for the pipeline's own workers.
 */

/**
 * The oldest run nobody holds, locked: a PENDING one created at or after $1, or a RUNNING one whose lease expired.
 * Its lease is read from the statement's snapshot: a run another worker claimed just before this statement locked
 * it passes the check again with that worker's lease unseen, so TAKE_LEASE decides.
 */
export const CLAIMABLE_RUN = `SELECT r.id, r."userId", r."companyName", r.status, r."currentStage", coalesce(l.attempt, 0) AS attempts
   FROM "Run" r LEFT JOIN "RunLease" l ON l."runId" = r.id
  WHERE (r.status = 'PENDING' AND r."createdAt" >= $1)
     OR (r.status = 'RUNNING' AND coalesce(l."expiresAt", '-infinity') < now() AT TIME ZONE 'UTC')
  ORDER BY r."createdAt" LIMIT 1
    FOR UPDATE OF r SKIP LOCKED`;

/**
 * Leases the run just locked ($1, token $2, for $3 seconds): a new lease, or the expired one of a worker that went
 * silent. It answers no row when the run's lease is live (checked against the lease as committed now, not the
 * claim's snapshot): another worker claimed it meanwhile, and this claim is abandoned.
 */
export const TAKE_LEASE = `INSERT INTO "RunLease" ("runId", token, attempt, "expiresAt")
  VALUES ($1, $2, 1, now() AT TIME ZONE 'UTC' + make_interval(secs => $3))
  ON CONFLICT ("runId") DO UPDATE SET token = EXCLUDED.token, attempt = "RunLease".attempt + 1, "expiresAt" = EXCLUDED."expiresAt"
   WHERE "RunLease"."expiresAt" < now() AT TIME ZONE 'UTC'
  RETURNING attempt`;
