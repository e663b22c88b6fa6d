import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import type pg from 'pg';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { readMigrations } from '../../src/migrate/migrations.js';
import { deploy } from '../../src/migrate/runner.js';
import { tbankToken } from '../../src/payments/token.js';
import { connect, freshDatabase } from '../helpers/db.js';
import { migrationsDir } from '../helpers/paths.js';

interface Received {
  from: string;
  to: string[];
  data: string;
}

// A real SMTP server on loopback that keeps what it receives.
async function smtpSink(): Promise<{
  port: number;
  mails: Received[];
  close: () => Promise<void>;
}> {
  const mails: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data: Buffer.concat(chunks).toString('utf8'),
        });
        done();
      });
    },
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.server.address() as AddressInfo;
  return { port, mails, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

const TERMINAL = 'TinkoffBankTest';
const PASSWORD = 'integration-terminal-password';

function notification(over: Record<string, unknown> = {}): Record<string, unknown> {
  const n: Record<string, unknown> = {
    TerminalKey: TERMINAL,
    OrderId: 'order-1',
    Success: true,
    Status: 'CONFIRMED',
    PaymentId: 700001,
    ErrorCode: '0',
    Amount: 129900,
    Pan: '430000******0777',
    ...over,
  };
  return { ...n, Token: tbankToken(n, PASSWORD) };
}

describe('backend HTTP API against PostgreSQL and SMTP', () => {
  let app: INestApplication;
  let base: string;
  let db: pg.Client;
  let drop: () => Promise<void>;
  let smtp: Awaited<ReturnType<typeof smtpSink>>;

  before(async () => {
    const fresh = await freshDatabase();
    drop = fresh.drop;
    db = await connect(fresh.url);
    await deploy(db, readMigrations(migrationsDir), pino({ level: 'silent' }));
    smtp = await smtpSink();
    const config = loadConfig({
      DATABASE_URL: fresh.url,
      APP_VERSION: '9.9.9-test',
      LOG_LEVEL: 'ERROR',
      METRICS_PORT: '0', // metrics.test.ts has the listener
      PAYMENT_TERMINAL_KEY: TERMINAL,
      PAYMENT_PASSWORD: PASSWORD,
      EMAIL_PROVIDER: 'smtp',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      EMAIL_FROM: 'noreply@mvp.test',
      EMAIL_REDIRECT_TO: 'qa-inbox@mvp.test',
    });
    app = await createApp(config, migrationsDir);
    await app.listen(0, '127.0.0.1');
    const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
    base = `http://127.0.0.1:${port}/api`;
  });

  after(async () => {
    await app.close();
    await smtp.close();
    await db.end();
    await drop();
  });

  const post = (path: string, body: unknown) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('reports health with the database, its schema and the version', async () => {
    const res = await fetch(`${base}/health`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-app-version'), '9.9.9-test');
    const body = (await res.json()) as {
      status: string;
      version: string;
      database: { status: string; schema_version: string; expected_schema_version: string };
    };
    const latest = readMigrations(migrationsDir).at(-1)?.name;
    assert.equal(body.status, 'ok');
    assert.equal(body.version, '9.9.9-test');
    assert.equal(body.database.status, 'up');
    assert.equal(body.database.schema_version, latest);
    assert.equal(body.database.expected_schema_version, latest);
  });

  it('answers 503 when the schema is behind this release', async () => {
    await db.query(`UPDATE _prisma_migrations SET rolled_back_at = now()
                     WHERE migration_name = (SELECT max(migration_name) FROM _prisma_migrations)`);
    try {
      const res = await fetch(`${base}/health`);
      assert.equal(res.status, 503);
      assert.equal(((await res.json()) as { status: string }).status, 'degraded');
    } finally {
      await db.query(`UPDATE _prisma_migrations SET rolled_back_at = NULL`);
    }
  });

  it('records a notification with a valid token once and answers OK', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await post('/payments/webhook', notification());
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'OK');
    }
    const { rows } = await db.query<{ order_id: string; amount: string; payload: object }>(
      `SELECT order_id, amount::text, payload FROM payment_notifications WHERE payment_id = '700001'`,
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.amount, '129900');
    assert.equal('Token' in (rows[0]?.payload ?? {}), false);
  });

  it('refuses a forged or foreign notification with 403 and records nothing', async () => {
    const forged = { ...notification({ PaymentId: 700002 }), Amount: 1 };
    const foreign = notification({ PaymentId: 700003, TerminalKey: 'OtherTerminal' });
    const wrongPassword = {
      ...notification({ PaymentId: 700004 }),
      Token: tbankToken(notification({ PaymentId: 700004 }), 'guess'),
    };
    for (const body of [forged, foreign, wrongPassword]) {
      const res = await post('/payments/webhook', body);
      assert.equal(res.status, 403);
    }
    const { rows } = await db.query(
      `SELECT 1 FROM payment_notifications WHERE payment_id IN ('700002', '700003', '700004')`,
    );
    assert.equal(rows.length, 0);
    assert.equal((await post('/payments/webhook', { OrderId: 'x' })).status, 400);
  });

  it('sends the contact acknowledgement to the redirect mailbox only', async () => {
    const res = await post('/contact', {
      email: 'customer@example.com',
      name: 'Ann',
      message: 'Hello',
    });
    assert.equal(res.status, 202);
    const mail = smtp.mails.at(-1);
    assert.ok(mail, 'the SMTP server received a message');
    assert.deepEqual(mail.to, ['qa-inbox@mvp.test']);
    assert.equal(mail.from, 'noreply@mvp.test');
    assert.match(mail.data, /X-Original-To: customer@example\.com/);
    assert.match(mail.data, /Subject: \[to customer@example\.com\] We received your message/);
    assert.ok(!smtp.mails.some((m) => m.to.includes('customer@example.com')));
    assert.equal((await post('/contact', { email: 'not-an-address', message: 'x' })).status, 400);
  });
});
