import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotificationError, parseNotification } from '../../src/payments/notification.js';

const valid = {
  TerminalKey: 'T',
  OrderId: 'o-1',
  Success: true,
  Status: 'CONFIRMED',
  PaymentId: 42,
  ErrorCode: '0',
  Amount: 1990,
  Token: 'f'.repeat(64),
};

describe('parseNotification', () => {
  it('keeps the fields, amount in kopecks, payload without the token', () => {
    const n = parseNotification(valid);
    assert.deepEqual(
      { ...n, payload: undefined },
      {
        terminalKey: 'T',
        orderId: 'o-1',
        paymentId: '42',
        status: 'CONFIRMED',
        amount: 1990n,
        success: true,
        errorCode: '0',
        payload: undefined,
      },
    );
    assert.equal('Token' in n.payload, false);
  });

  it('refuses what is not a notification, naming the field', () => {
    assert.throws(() => parseNotification([]), NotificationError);
    assert.throws(() => parseNotification('OK'), NotificationError);
    assert.throws(() => parseNotification({ ...valid, OrderId: '' }), /OrderId/);
    assert.throws(() => parseNotification({ ...valid, Amount: '12.5' }), /Amount/);
    assert.throws(() => parseNotification({ ...valid, Status: { x: 1 } }), /Status/);
  });
});
