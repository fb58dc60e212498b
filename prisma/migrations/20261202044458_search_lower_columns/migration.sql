-- Searches match lower-cased copies of the searched columns with LIKE (decision 032): ILIKE lower-cases every row it
-- reads at every search, which on PGlite (WASM, libc C.UTF-8) cost ~1.3 µs a row, 5× the match itself.

-- DropIndex
DROP INDEX "Email_fromAddress_idx";

-- DropIndex
DROP INDEX "Email_fromName_idx";

-- DropIndex
DROP INDEX "Email_subject_idx";

-- DropIndex
DROP INDEX "Mailbox_emailAddress_trgm_idx";

-- DropIndex
DROP INDEX "Mailbox_name_trgm_idx";

-- AlterTable (edited: generated columns, which Prisma's schema cannot say; its diff reads them as these defaults)
ALTER TABLE "Email" ADD COLUMN     "fromAddressLower" TEXT GENERATED ALWAYS AS (lower("fromAddress")) STORED,
ADD COLUMN     "fromNameLower" TEXT GENERATED ALWAYS AS (lower("fromName")) STORED,
ADD COLUMN     "subjectLower" TEXT GENERATED ALWAYS AS (lower(subject)) STORED;

-- AlterTable (edited, as above)
ALTER TABLE "Mailbox" ADD COLUMN     "emailAddressLower" TEXT GENERATED ALWAYS AS (lower("emailAddress")) STORED,
ADD COLUMN     "nameLower" TEXT GENERATED ALWAYS AS (lower(name)) STORED;

-- CreateIndex
CREATE INDEX "Email_subjectLower_idx" ON "Email" USING GIN ("subjectLower" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "Email_fromAddressLower_idx" ON "Email" USING GIN ("fromAddressLower" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "Email_fromNameLower_idx" ON "Email" USING GIN ("fromNameLower" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "Mailbox_nameLower_trgm_idx" ON "Mailbox" USING GIN ("nameLower" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "Mailbox_emailAddressLower_trgm_idx" ON "Mailbox" USING GIN ("emailAddressLower" gin_trgm_ops);
