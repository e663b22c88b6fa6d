import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { tbankToken, verifyTbankToken } from '../../src/payments/token.js';

// A notification as T-Bank sends it (documentation example, test terminal).
const notification = {
  TerminalKey: 'TinkoffBankTest',
  OrderId: '21050',
  Success: true,
  Status: 'CONFIRMED',
  PaymentId: 13660,
  ErrorCode: '0',
  Amount: 100000,
  CardId: 322264,
  Pan: '430000******0777',
  ExpDate: '1122',
  Data: { Phone: '+71234567890' },
};

describe('T-Bank token', () => {
  it('signs sorted scalar values with the password, skipping Token and nested objects', () => {
    // Keys sorted: Amount CardId ErrorCode ExpDate OrderId Pan Password PaymentId Status Success TerminalKey
    const joined =
      '100000' +
      '322264' +
      '0' +
      '1122' +
      '21050' +
      '430000******0777' +
      'secret' +
      '13660' +
      'CONFIRMED' +
      'true' +
      'TinkoffBankTest';
    const expected = createHash('sha256').update(joined).digest('hex');
    assert.equal(tbankToken(notification, 'secret'), expected);
    assert.equal(tbankToken({ ...notification, Token: 'x' }, 'secret'), expected);
  });

  it('accepts the right token in any case and refuses a wrong or malformed one', () => {
    const token = tbankToken(notification, 'secret');
    assert.ok(verifyTbankToken({ ...notification, Token: token }, 'secret'));
    assert.ok(verifyTbankToken({ ...notification, Token: token.toUpperCase() }, 'secret'));
    assert.ok(!verifyTbankToken({ ...notification, Token: token }, 'other-password'));
    assert.ok(!verifyTbankToken({ ...notification, Amount: 1, Token: token }, 'secret'));
    assert.ok(!verifyTbankToken({ ...notification, Token: 'abc' }, 'secret'));
    assert.ok(!verifyTbankToken({ ...notification }, 'secret'));
  });

  it('changes when any signed field changes', () => {
    const base = tbankToken(notification, 'p');
    const { Data: _data, ...signed } = notification;
    for (const [key, value] of Object.entries(signed)) {
      assert.notEqual(tbankToken({ ...notification, [key]: `${value}1` }, 'p'), base, key);
    }
    assert.equal(tbankToken({ ...notification, Data: { Phone: 'other' } }, 'p'), base);
  });
});
