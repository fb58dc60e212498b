-- AlterTable
ALTER TABLE "EmailServerProfile" ADD COLUMN     "clientVerifiedAt" TIMESTAMPTZ(3),
ADD COLUMN     "clientVerifiedMessage" TEXT,
ADD COLUMN     "clientVerifiedResult" TEXT,
ADD COLUMN     "googleAppInTesting" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "GmailGrant" ADD COLUMN     "refreshTokenIssuedAt" TIMESTAMPTZ(3),
ADD COLUMN     "signInRequiredAt" TIMESTAMPTZ(3),
ADD COLUMN     "signInRequiredCode" TEXT;

-- AlterTable
ALTER TABLE "TestRun" ADD COLUMN     "runnerProcessId" TEXT,
ADD COLUMN     "sendTestMessage" BOOLEAN NOT NULL DEFAULT false;

-- Existing refresh tokens: the best known issue time is when the grant was stored.
UPDATE "GmailGrant" SET "refreshTokenIssuedAt" = "issuedAt" WHERE "refreshToken" IS NOT NULL;
