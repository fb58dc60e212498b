-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('ADMIN', 'USER');

-- CreateEnum
CREATE TYPE "ServerType" AS ENUM ('IMAP', 'POP3');

-- CreateEnum
CREATE TYPE "Security" AS ENUM ('SSL', 'STARTTLS');

-- CreateEnum
CREATE TYPE "AuthenticateUsing" AS ENUM ('GMAIL_OAUTH', 'CREDENTIALS_PER_MAILBOX');

-- CreateEnum
CREATE TYPE "SyncMethod" AS ENUM ('NONE', 'SERVER_SIDE_SYNC', 'EMAIL_ROUTER');

-- CreateEnum
CREATE TYPE "EmailApproval" AS ENUM ('EMPTY', 'PENDING', 'APPROVED', 'REJECTED');

-- CreateEnum
CREATE TYPE "CheckStatus" AS ENUM ('NOT_RUN', 'PENDING', 'SUCCESS', 'FAILURE');

-- CreateEnum
CREATE TYPE "AlertLevel" AS ENUM ('ERROR', 'WARNING', 'INFO');

-- CreateTable
CREATE TABLE "User" (
    "id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "role" "Role" NOT NULL DEFAULT 'USER',
    "disabledAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Session" (
    "sid" TEXT NOT NULL,
    "data" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Session_pkey" PRIMARY KEY ("sid")
);

-- CreateTable
CREATE TABLE "Setting" (
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,

    CONSTRAINT "Setting_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "EmailServerProfile" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "serverType" "ServerType" NOT NULL DEFAULT 'IMAP',
    "incomingServer" TEXT NOT NULL,
    "incomingPort" INTEGER NOT NULL,
    "incomingUseSsl" BOOLEAN NOT NULL DEFAULT true,
    "outgoingServer" TEXT NOT NULL,
    "outgoingPort" INTEGER NOT NULL,
    "outgoingSecurity" "Security" NOT NULL DEFAULT 'STARTTLS',
    "authenticateUsing" "AuthenticateUsing" NOT NULL DEFAULT 'GMAIL_OAUTH',
    "oauthClientId" TEXT,
    "oauthClientSecret" TEXT,
    "maxConcurrentConnections" INTEGER NOT NULL DEFAULT 10,
    "minPollingIntervalMinutes" INTEGER NOT NULL DEFAULT 0,
    "processEmailFrom" TIMESTAMP(3),
    "moveFailedToUndeliverable" BOOLEAN NOT NULL DEFAULT false,
    "isDefaultGmail" BOOLEAN NOT NULL DEFAULT false,
    "ownerId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "EmailServerProfile_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Mailbox" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "emailAddress" TEXT NOT NULL,
    "ownerId" TEXT NOT NULL,
    "profileId" TEXT,
    "incomingEmail" "SyncMethod" NOT NULL DEFAULT 'SERVER_SIDE_SYNC',
    "outgoingEmail" "SyncMethod" NOT NULL DEFAULT 'SERVER_SIDE_SYNC',
    "emailApproval" "EmailApproval" NOT NULL DEFAULT 'PENDING',
    "incomingStatus" "CheckStatus" NOT NULL DEFAULT 'NOT_RUN',
    "outgoingStatus" "CheckStatus" NOT NULL DEFAULT 'NOT_RUN',
    "enabledForIncoming" BOOLEAN NOT NULL DEFAULT false,
    "enabledForOutgoing" BOOLEAN NOT NULL DEFAULT false,
    "credentialUsername" TEXT,
    "credentialPassword" TEXT,
    "lastTestStartedAt" TIMESTAMP(3),
    "lastTestCompletedAt" TIMESTAMP(3),
    "retryCount" INTEGER NOT NULL DEFAULT 0,
    "retryLimit" INTEGER NOT NULL DEFAULT 0,
    "nextRetryAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Mailbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "GmailGrant" (
    "id" TEXT NOT NULL,
    "mailboxId" TEXT NOT NULL,
    "googleEmail" TEXT NOT NULL,
    "grantedScopes" TEXT NOT NULL,
    "accessToken" TEXT NOT NULL,
    "accessTokenExpiresAt" TIMESTAMP(3) NOT NULL,
    "refreshToken" TEXT,
    "needsReconsent" BOOLEAN NOT NULL DEFAULT false,
    "issuedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "refreshedAt" TIMESTAMP(3),

    CONSTRAINT "GmailGrant_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TestRun" (
    "id" TEXT NOT NULL,
    "mailboxId" TEXT NOT NULL,
    "requestedBy" TEXT,
    "jobId" TEXT,
    "attempt" INTEGER NOT NULL DEFAULT 1,
    "status" TEXT NOT NULL DEFAULT 'RUNNING',
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),
    "steps" JSONB NOT NULL DEFAULT '[]',

    CONSTRAINT "TestRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Alert" (
    "id" TEXT NOT NULL,
    "mailboxId" TEXT,
    "profileId" TEXT,
    "level" "AlertLevel" NOT NULL,
    "code" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "hint" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Alert_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actorId" TEXT,
    "actorEmail" TEXT,
    "action" TEXT NOT NULL,
    "targetType" TEXT,
    "targetId" TEXT,
    "result" TEXT NOT NULL DEFAULT 'SUCCESS',
    "details" JSONB NOT NULL DEFAULT '{}',
    "ip" TEXT,

    CONSTRAINT "AuditEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- CreateIndex
CREATE INDEX "Session_expiresAt_idx" ON "Session"("expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "EmailServerProfile_name_key" ON "EmailServerProfile"("name");

-- CreateIndex
CREATE INDEX "Mailbox_profileId_idx" ON "Mailbox"("profileId");

-- CreateIndex
CREATE INDEX "Mailbox_ownerId_idx" ON "Mailbox"("ownerId");

-- CreateIndex
CREATE INDEX "Mailbox_incomingStatus_name_idx" ON "Mailbox"("incomingStatus", "name");

-- CreateIndex
CREATE UNIQUE INDEX "Mailbox_emailAddress_key" ON "Mailbox"("emailAddress");

-- CreateIndex
CREATE UNIQUE INDEX "GmailGrant_mailboxId_key" ON "GmailGrant"("mailboxId");

-- CreateIndex
CREATE INDEX "TestRun_mailboxId_startedAt_idx" ON "TestRun"("mailboxId", "startedAt");

-- CreateIndex
CREATE INDEX "Alert_mailboxId_createdAt_idx" ON "Alert"("mailboxId", "createdAt");

-- CreateIndex
CREATE INDEX "Alert_profileId_createdAt_idx" ON "Alert"("profileId", "createdAt");

-- CreateIndex
CREATE INDEX "AuditEvent_at_idx" ON "AuditEvent"("at");

-- AddForeignKey
ALTER TABLE "EmailServerProfile" ADD CONSTRAINT "EmailServerProfile_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Mailbox" ADD CONSTRAINT "Mailbox_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Mailbox" ADD CONSTRAINT "Mailbox_profileId_fkey" FOREIGN KEY ("profileId") REFERENCES "EmailServerProfile"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GmailGrant" ADD CONSTRAINT "GmailGrant_mailboxId_fkey" FOREIGN KEY ("mailboxId") REFERENCES "Mailbox"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TestRun" ADD CONSTRAINT "TestRun_mailboxId_fkey" FOREIGN KEY ("mailboxId") REFERENCES "Mailbox"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Alert" ADD CONSTRAINT "Alert_mailboxId_fkey" FOREIGN KEY ("mailboxId") REFERENCES "Mailbox"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Alert" ADD CONSTRAINT "Alert_profileId_fkey" FOREIGN KEY ("profileId") REFERENCES "EmailServerProfile"("id") ON DELETE CASCADE ON UPDATE CASCADE;
