-- Release 2.0.0 of the reference application (the registry scenario's next release): when the
-- backend finished processing a payment notification, and an index for reading them by time.
-- Expand only: a nullable column (no default, no rewrite of the table) and an index. Release
-- 1.0.0, which keeps serving while this runs and until nginx switches (and again after a
-- rollback), neither reads nor writes the column: its inserts leave it NULL.

-- AlterTable
ALTER TABLE "payment_notifications" ADD COLUMN "processed_at" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "payment_notifications_received_at_idx" ON "payment_notifications"("received_at");
