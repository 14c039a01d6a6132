-- CreateTable
CREATE TABLE "RunRetries" (
    "runId" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "lastRetriedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RunRetries_pkey" PRIMARY KEY ("runId")
);

-- AddForeignKey
ALTER TABLE "RunRetries" ADD CONSTRAINT "RunRetries_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;
