-- CreateIndex
CREATE INDEX "Alert_createdAt_idx" ON "Alert"("createdAt" DESC);

-- CreateIndex
CREATE INDEX "Alert_level_createdAt_idx" ON "Alert"("level", "createdAt" DESC);
