-- The run lifecycle: a CANCELLED status (cancelRun), leases that let the next pipeline worker take over a run
-- whose worker went silent (RunLease), and the idempotency keys of createRun (IdempotencyKey).
-- (No semicolons or quotes in these comments: the migration engine splits the script on them.)

-- AlterEnum
ALTER TYPE "RunStatus" ADD VALUE 'CANCELLED';

-- CreateTable
CREATE TABLE "RunLease" (
    "runId" TEXT NOT NULL,
    "token" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "RunLease_pkey" PRIMARY KEY ("runId")
);

-- CreateTable
CREATE TABLE "IdempotencyKey" (
    "userId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "runId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "IdempotencyKey_pkey" PRIMARY KEY ("userId","key")
);

-- CreateIndex
CREATE INDEX "IdempotencyKey_createdAt_idx" ON "IdempotencyKey"("createdAt");

-- CreateIndex
CREATE INDEX "IdempotencyKey_runId_idx" ON "IdempotencyKey"("runId");

-- AddForeignKey
ALTER TABLE "RunLease" ADD CONSTRAINT "RunLease_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "IdempotencyKey" ADD CONSTRAINT "IdempotencyKey_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "IdempotencyKey" ADD CONSTRAINT "IdempotencyKey_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Runs already RUNNING were claimed by a worker that kept no lease: each gets one that expires in 15 minutes,
-- after which a worker that keeps leases takes the run over if nobody finished it.
INSERT INTO "RunLease" ("runId", "token", "attempt", "expiresAt")
SELECT "id", 'claimed-before-leases', 1, (now() AT TIME ZONE 'UTC') + interval '15 minutes' FROM "Run" WHERE "status" = 'RUNNING';
