-- AlterTable
ALTER TABLE "GmailGrant" ADD COLUMN     "refreshClaimedBy" TEXT,
ADD COLUMN     "refreshClaimedUntil" TIMESTAMPTZ(3);
