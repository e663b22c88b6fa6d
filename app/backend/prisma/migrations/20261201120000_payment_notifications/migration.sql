-- CreateTable
CREATE TABLE "payment_notifications" (
    "id" BIGSERIAL NOT NULL,
    "terminal_key" TEXT NOT NULL,
    "order_id" TEXT NOT NULL,
    "payment_id" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "amount" BIGINT NOT NULL,
    "success" BOOLEAN NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "payment_notifications_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "payment_notifications_order_id_idx" ON "payment_notifications"("order_id");
