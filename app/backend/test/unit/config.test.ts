import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, parseLogLevel } from '../../src/config.js';

const base = { DATABASE_URL: 'postgresql://u:p@db:5432/app' };

describe('loadConfig', () => {
  it('has defaults for everything but the database', () => {
    const c = loadConfig({ ...base, APP_VERSION: '1.2.3' });
    assert.equal(c.port, 3001);
    assert.equal(c.logLevel, 'info');
    assert.equal(c.version, '1.2.3');
    assert.deepEqual(c.mail.transport, { kind: 'disabled' });
    assert.equal(c.payments, undefined);
    assert.throws(() => loadConfig({}), /DATABASE_URL is not set/);
  });

  it('reads LOG_LEVEL in any case and names it when wrong', () => {
    assert.equal(parseLogLevel('DEBUG'), 'debug');
    assert.equal(parseLogLevel('Error'), 'error');
    assert.equal(parseLogLevel(undefined), 'info');
    assert.throws(
      () => parseLogLevel('verbose'),
      (e: Error) => e instanceof ConfigError && /LOG_LEVEL=verbose/.test(e.message),
    );
  });

  it('builds the SMTP settings per provider', () => {
    const smtp = loadConfig({
      ...base,
      EMAIL_PROVIDER: 'smtp',
      SMTP_HOST: 'mail',
      SMTP_PORT: '25',
    });
    assert.deepEqual(smtp.mail.transport, {
      kind: 'smtp',
      host: 'mail',
      port: 25,
      secure: false,
      user: undefined,
      password: undefined,
    });
    const sg = loadConfig({ ...base, EMAIL_PROVIDER: 'sendgrid', EMAIL_API_KEY: 'SG.x' });
    assert.deepEqual(sg.mail.transport, {
      kind: 'smtp',
      host: 'smtp.sendgrid.net',
      port: 587,
      secure: false,
      user: 'apikey',
      password: 'SG.x',
    });
    assert.throws(() => loadConfig({ ...base, EMAIL_PROVIDER: 'sendgrid' }), /EMAIL_API_KEY/);
    assert.throws(() => loadConfig({ ...base, EMAIL_PROVIDER: 'smtp' }), /SMTP_HOST/);
    assert.throws(() => loadConfig({ ...base, EMAIL_PROVIDER: 'pigeon' }), /EMAIL_PROVIDER=pigeon/);
    assert.throws(
      () => loadConfig({ ...base, SMTP_PORT: 'x', EMAIL_PROVIDER: 'smtp', SMTP_HOST: 'h' }),
      /SMTP_PORT=x/,
    );
  });

  it('checks the redirect mailbox and the payment pair', () => {
    assert.equal(loadConfig({ ...base, EMAIL_REDIRECT_TO: 'qa@test' }).mail.redirectTo, 'qa@test');
    assert.throws(
      () => loadConfig({ ...base, EMAIL_REDIRECT_TO: 'nobody' }),
      /EMAIL_REDIRECT_TO=nobody/,
    );
    assert.throws(() => loadConfig({ ...base, PAYMENT_TERMINAL_KEY: 'T' }), /PAYMENT_PASSWORD/);
    assert.deepEqual(
      loadConfig({ ...base, PAYMENT_TERMINAL_KEY: 'T', PAYMENT_PASSWORD: 'p' }).payments,
      {
        terminalKey: 'T',
        password: 'p',
      },
    );
  });

  it('reads the metrics listener: port 9464, 0 for none, user prometheus, optional password', () => {
    assert.deepEqual(loadConfig(base).metrics, {
      port: 9464,
      user: 'prometheus',
      password: undefined,
    });
    assert.deepEqual(
      loadConfig({ ...base, METRICS_PORT: '0', METRICS_USER: 'scraper', METRICS_PASSWORD: 's3' })
        .metrics,
      { port: 0, user: 'scraper', password: 's3' },
    );
    for (const bad of ['-1', '65536', 'x', '9464.5']) {
      assert.throws(
        () => loadConfig({ ...base, METRICS_PORT: bad }),
        (e: Error) => e instanceof ConfigError && e.message.startsWith(`METRICS_PORT=${bad} `),
      );
    }
    assert.throws(() => loadConfig({ ...base, METRICS_PORT: '3001' }), /METRICS_PORT=3001 .*PORT/);
    assert.throws(
      () => loadConfig({ ...base, METRICS_USER: 'a:b' }),
      (e: Error) => e instanceof ConfigError && /METRICS_USER=a:b/.test(e.message),
    );
  });
});
