-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "RunStatus" AS ENUM ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED');

-- CreateTable
CREATE TABLE "User" (
    "id" TEXT NOT NULL,
    "clerkId" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Run" (
    "id" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "companyId" TEXT NOT NULL,
    "companyName" TEXT NOT NULL,
    "documentName" TEXT NOT NULL,
    "documentUrl" TEXT NOT NULL,
    "status" "RunStatus" NOT NULL DEFAULT 'PENDING',
    "currentStage" INTEGER NOT NULL DEFAULT 0,
    "errorMessage" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "completedAt" TIMESTAMP(3),

    CONSTRAINT "Run_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OpportunityCard" (
    "id" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "title" TEXT NOT NULL,
    "tagline" TEXT NOT NULL,
    "problem" TEXT NOT NULL,
    "solution" TEXT NOT NULL,
    "why_now" TEXT NOT NULL,
    "target_segment" TEXT NOT NULL,
    "quick_win" TEXT NOT NULL,
    "starred" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "OpportunityCard_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "InspirationReport" (
    "id" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "inspiration1Title" TEXT NOT NULL,
    "inspiration1Content" TEXT NOT NULL,
    "inspiration1Elements" TEXT[],
    "inspiration2Title" TEXT NOT NULL,
    "inspiration2Content" TEXT NOT NULL,
    "inspiration2Elements" TEXT[],
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "InspirationReport_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "StageOutput" (
    "id" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "stageNumber" INTEGER NOT NULL,
    "markdownOutput" TEXT NOT NULL,
    "jsonOutput" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "StageOutput_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_clerkId_key" ON "User"("clerkId");

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- CreateIndex
CREATE INDEX "User_clerkId_idx" ON "User"("clerkId");

-- CreateIndex
CREATE INDEX "User_email_idx" ON "User"("email");

-- CreateIndex
CREATE INDEX "Run_userId_createdAt_idx" ON "Run"("userId", "createdAt");

-- CreateIndex
CREATE INDEX "Run_status_idx" ON "Run"("status");

-- CreateIndex
CREATE INDEX "Run_companyId_idx" ON "Run"("companyId");

-- CreateIndex
CREATE INDEX "OpportunityCard_userId_starred_idx" ON "OpportunityCard"("userId", "starred");

-- CreateIndex
CREATE INDEX "OpportunityCard_userId_createdAt_idx" ON "OpportunityCard"("userId", "createdAt");

-- CreateIndex
CREATE INDEX "OpportunityCard_runId_number_idx" ON "OpportunityCard"("runId", "number");

-- CreateIndex
CREATE UNIQUE INDEX "InspirationReport_runId_key" ON "InspirationReport"("runId");

-- CreateIndex
CREATE INDEX "InspirationReport_runId_idx" ON "InspirationReport"("runId");

-- CreateIndex
CREATE INDEX "StageOutput_runId_stageNumber_idx" ON "StageOutput"("runId", "stageNumber");

-- AddForeignKey
ALTER TABLE "Run" ADD CONSTRAINT "Run_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "OpportunityCard" ADD CONSTRAINT "OpportunityCard_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "OpportunityCard" ADD CONSTRAINT "OpportunityCard_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "InspirationReport" ADD CONSTRAINT "InspirationReport_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "StageOutput" ADD CONSTRAINT "StageOutput_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;
