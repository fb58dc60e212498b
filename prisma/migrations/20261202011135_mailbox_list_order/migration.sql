-- CreateIndex
CREATE INDEX "Mailbox_name_id_idx" ON "Mailbox"("name", "id");

-- CreateIndex
CREATE INDEX "Mailbox_name_trgm_idx" ON "Mailbox" USING GIN ("name" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "Mailbox_emailAddress_trgm_idx" ON "Mailbox" USING GIN ("emailAddress" gin_trgm_ops);
