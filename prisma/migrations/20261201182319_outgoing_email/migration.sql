-- AlterTable
ALTER TABLE "Email" ADD COLUMN     "sendingProcessId" TEXT,
ADD COLUMN     "sendingStartedAt" TIMESTAMPTZ(3),
ADD COLUMN     "smtpResponse" TEXT;

-- CreateIndex
CREATE INDEX "Email_status_sendingProcessId_idx" ON "Email"("status", "sendingProcessId");
