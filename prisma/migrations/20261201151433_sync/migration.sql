-- Trigram indexes for the Emails list's substring search (written here, not through Prisma's extensions preview).
CREATE EXTENSION IF NOT EXISTS "pg_trgm";

-- CreateEnum
CREATE TYPE "EmailDirection" AS ENUM ('INCOMING', 'OUTGOING');

-- CreateEnum
CREATE TYPE "EmailStatus" AS ENUM ('RECEIVED', 'PENDING_SEND', 'SENDING', 'SENT', 'FAILED', 'UNKNOWN');

-- CreateEnum
CREATE TYPE "SyncState" AS ENUM ('STARTING', 'CONNECTED', 'POLLING', 'WAITING', 'BACKING_OFF', 'STOPPED');

-- AlterTable
ALTER TABLE "Mailbox" ADD COLUMN     "processEmailFrom" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "Email" (
    "id" TEXT NOT NULL,
    "mailboxId" TEXT NOT NULL,
    "direction" "EmailDirection" NOT NULL,
    "status" "EmailStatus" NOT NULL,
    "messageId" TEXT NOT NULL,
    "messageIdSynthetic" BOOLEAN NOT NULL DEFAULT false,
    "inReplyTo" TEXT,
    "references" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "fromAddress" TEXT NOT NULL DEFAULT '',
    "fromName" TEXT NOT NULL DEFAULT '',
    "to" JSONB NOT NULL DEFAULT '[]',
    "cc" JSONB NOT NULL DEFAULT '[]',
    "bcc" JSONB NOT NULL DEFAULT '[]',
    "subject" TEXT NOT NULL DEFAULT '',
    "text" TEXT,
    "html" TEXT,
    "attachments" JSONB NOT NULL DEFAULT '[]',
    "size" INTEGER NOT NULL DEFAULT 0,
    "receivedAt" TIMESTAMPTZ(3),
    "sentAt" TIMESTAMPTZ(3),
    "occurredAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "imapUidValidity" BIGINT,
    "imapUid" BIGINT,
    "pop3Uidl" TEXT,
    "errorCode" TEXT,
    "errorMessage" TEXT,
    "errorHint" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMPTZ(3),
    "createdById" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Email_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "MailboxSync" (
    "mailboxId" TEXT NOT NULL,
    "state" "SyncState" NOT NULL DEFAULT 'STOPPED',
    "ownerId" TEXT,
    "claimedAt" TIMESTAMPTZ(3),
    "uidValidity" BIGINT,
    "lastUid" BIGINT,
    "syncFrom" TIMESTAMPTZ(3),
    "backfillBelowUid" BIGINT,
    "firstSyncDoneAt" TIMESTAMPTZ(3),
    "lastMessageAt" TIMESTAMPTZ(3),
    "messagesSynced" INTEGER NOT NULL DEFAULT 0,
    "lastErrorCode" TEXT,
    "lastErrorMessage" TEXT,
    "lastErrorHint" TEXT,
    "lastErrorAt" TIMESTAMPTZ(3),
    "retryCount" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMPTZ(3),
    "stoppedReason" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "MailboxSync_pkey" PRIMARY KEY ("mailboxId")
);

-- CreateTable
CREATE TABLE "WorkerProcess" (
    "id" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "role" TEXT NOT NULL,
    "startedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "heartbeatAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "stoppingAt" TIMESTAMPTZ(3),

    CONSTRAINT "WorkerProcess_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ConnectionSlot" (
    "id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "holderId" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "yieldable" BOOLEAN NOT NULL DEFAULT false,
    "acquiredAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ConnectionSlot_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Email_mailboxId_occurredAt_idx" ON "Email"("mailboxId", "occurredAt" DESC);

-- CreateIndex
CREATE INDEX "Email_occurredAt_idx" ON "Email"("occurredAt" DESC);

-- CreateIndex
CREATE INDEX "Email_mailboxId_fromAddress_idx" ON "Email"("mailboxId", "fromAddress");

-- CreateIndex
CREATE INDEX "Email_status_nextAttemptAt_idx" ON "Email"("status", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "Email_subject_idx" ON "Email" USING GIN ("subject" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "Email_fromAddress_idx" ON "Email" USING GIN ("fromAddress" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "Email_fromName_idx" ON "Email" USING GIN ("fromName" gin_trgm_ops);

-- CreateIndex
CREATE UNIQUE INDEX "Email_mailboxId_messageId_key" ON "Email"("mailboxId", "messageId");

-- CreateIndex
CREATE UNIQUE INDEX "Email_mailboxId_imapUidValidity_imapUid_key" ON "Email"("mailboxId", "imapUidValidity", "imapUid");

-- CreateIndex
CREATE UNIQUE INDEX "Email_mailboxId_pop3Uidl_key" ON "Email"("mailboxId", "pop3Uidl");

-- CreateIndex
CREATE INDEX "MailboxSync_ownerId_idx" ON "MailboxSync"("ownerId");

-- CreateIndex
CREATE INDEX "WorkerProcess_heartbeatAt_idx" ON "WorkerProcess"("heartbeatAt");

-- CreateIndex
CREATE INDEX "ConnectionSlot_key_idx" ON "ConnectionSlot"("key");

-- CreateIndex
CREATE INDEX "ConnectionSlot_holderId_idx" ON "ConnectionSlot"("holderId");

-- AddForeignKey
ALTER TABLE "Email" ADD CONSTRAINT "Email_mailboxId_fkey" FOREIGN KEY ("mailboxId") REFERENCES "Mailbox"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Email" ADD CONSTRAINT "Email_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MailboxSync" ADD CONSTRAINT "MailboxSync_mailboxId_fkey" FOREIGN KEY ("mailboxId") REFERENCES "Mailbox"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MailboxSync" ADD CONSTRAINT "MailboxSync_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "WorkerProcess"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ConnectionSlot" ADD CONSTRAINT "ConnectionSlot_holderId_fkey" FOREIGN KEY ("holderId") REFERENCES "WorkerProcess"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Change notifications for synchronization (docs/decisions/012): whatever writes a mailbox, its grant or its profile
-- (web routes, Test & Enable, the CLI, SQL by hand), the worker that owns the mailbox hears it at commit and reconciles
-- within a second instead of at its next periodic pass.
CREATE OR REPLACE FUNCTION "mailroom_notify_mailbox"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('mailroom_sync', 'mailbox:' || (CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END)."id");
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION "mailroom_notify_grant"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('mailroom_sync', 'mailbox:' || (CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END)."mailboxId");
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION "mailroom_notify_profile"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('mailroom_sync', 'profile:' || NEW."id");
  RETURN NULL;
END $$;

CREATE TRIGGER "Mailbox_sync_notify"
  AFTER INSERT OR DELETE OR UPDATE OF "enabledForIncoming", "incomingEmail", "emailApproval", "profileId", "emailAddress", "credentialUsername", "credentialPassword"
  ON "Mailbox" FOR EACH ROW EXECUTE FUNCTION "mailroom_notify_mailbox"();

CREATE TRIGGER "GmailGrant_sync_notify"
  AFTER INSERT OR DELETE OR UPDATE OF "refreshToken", "needsReconsent", "googleEmail", "grantedScopes"
  ON "GmailGrant" FOR EACH ROW EXECUTE FUNCTION "mailroom_notify_grant"();

CREATE TRIGGER "EmailServerProfile_sync_notify"
  AFTER UPDATE ON "EmailServerProfile" FOR EACH ROW EXECUTE FUNCTION "mailroom_notify_profile"();
