import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyRedirect } from '../../src/mail/redirect.js';

const msg = { to: ['a@x.test'], cc: ['b@x.test'], bcc: ['c@x.test'], subject: 'Hi', text: 'body' };

describe('applyRedirect', () => {
  it('leaves a message alone without a redirect mailbox', () => {
    assert.deepEqual(applyRedirect(msg, undefined), { ...msg, headers: {} });
  });

  it('sends only to the redirect mailbox and keeps the original recipients visible', () => {
    const e = applyRedirect(msg, 'qa@test');
    assert.deepEqual(e.to, ['qa@test']);
    assert.equal(e.cc, undefined);
    assert.equal(e.bcc, undefined);
    assert.equal(e.headers['X-Original-To'], 'a@x.test, b@x.test, c@x.test');
    assert.match(e.subject, /^\[to a@x.test, b@x.test, c@x.test\] Hi$/);
  });
});
