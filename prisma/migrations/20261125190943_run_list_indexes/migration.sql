-- CreateIndex
CREATE INDEX "Run_userId_status_createdAt_idx" ON "Run"("userId", "status", "createdAt");

-- CreateIndex
CREATE INDEX "Run_userId_companyId_createdAt_idx" ON "Run"("userId", "companyId", "createdAt");
