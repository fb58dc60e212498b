-- AlterTable
ALTER TABLE "Session" ADD COLUMN     "userId" TEXT;

-- CreateIndex
CREATE INDEX "Session_userId_idx" ON "Session"("userId");

-- Sessions signed in before this column existed: take passport's user id out of the session JSON, so disabling
-- their user signs them out too. Expired rows are left to the sweeper.
UPDATE "Session" SET "userId" = "data"::jsonb #>> '{passport,user}'
WHERE "expiresAt" > CURRENT_TIMESTAMP AND "data" LIKE '%"passport"%';
