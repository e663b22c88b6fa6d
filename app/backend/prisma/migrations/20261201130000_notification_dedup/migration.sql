-- The gateway repeats a notification until it is answered: keep one row per payment and
-- status (the first one), then enforce it. Columns are added with defaults so the previous
-- release keeps working against this schema (expand first, contract in a later release).

-- AlterTable
ALTER TABLE "payment_notifications" ADD COLUMN "error_code" TEXT NOT NULL DEFAULT '0',
ADD COLUMN "payload" JSONB NOT NULL DEFAULT '{}';

-- Remove repeated notifications recorded before the unique index existed.
DELETE FROM "payment_notifications" AS later
USING "payment_notifications" AS first
WHERE later."payment_id" = first."payment_id"
  AND later."status" = first."status"
  AND later."id" > first."id";

-- CreateIndex
CREATE UNIQUE INDEX "payment_notifications_payment_id_status_key" ON "payment_notifications"("payment_id", "status");
