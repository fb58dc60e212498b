-- CreateTable
CREATE TABLE "MailboxImport" (
    "id" TEXT NOT NULL,
    "fileName" TEXT NOT NULL,
    "createdById" TEXT,
    "createdByEmail" TEXT,
    "status" TEXT NOT NULL DEFAULT 'PREVIEW',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "MailboxImport_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "MailboxImportRow" (
    "id" TEXT NOT NULL,
    "importId" TEXT NOT NULL,
    "line" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "emailAddress" TEXT NOT NULL,
    "ownerEmail" TEXT NOT NULL,
    "profileName" TEXT NOT NULL,
    "incomingEmail" TEXT NOT NULL,
    "outgoingEmail" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "reason" TEXT,
    "mailboxId" TEXT,

    CONSTRAINT "MailboxImportRow_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "MailboxImport_createdAt_idx" ON "MailboxImport"("createdAt");

-- CreateIndex
CREATE INDEX "MailboxImportRow_importId_status_idx" ON "MailboxImportRow"("importId", "status");

-- CreateIndex
CREATE UNIQUE INDEX "MailboxImportRow_importId_line_key" ON "MailboxImportRow"("importId", "line");

-- AddForeignKey
ALTER TABLE "MailboxImportRow" ADD CONSTRAINT "MailboxImportRow_importId_fkey" FOREIGN KEY ("importId") REFERENCES "MailboxImport"("id") ON DELETE CASCADE ON UPDATE CASCADE;
