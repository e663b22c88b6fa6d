-- Release 2.1.0 of the registry scenario: a migration that FAILS, as a real mistake would - the
-- backfill reads a column that does not exist. PostgreSQL runs the script as one transaction
-- (the runner sends it as one simple-protocol query), so the column added first is not kept
-- either; the release must stop before its colour starts and nginx must never switch.

-- AlterTable
ALTER TABLE "payment_notifications" ADD COLUMN "currency" TEXT;

-- Backfill (wrong: there is no such column)
UPDATE "payment_notifications" SET "currency" = "payload_currency";
