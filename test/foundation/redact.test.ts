import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { clearSecrets, redact, redactValue, registerSecret } from '../../engine/redact.js';
import { B24RulesError, type ErrorCode } from '../../engine/errors.js';
import { createLogger } from '../../engine/logger.js';

afterEach(() => clearSecrets());

describe('redact', () => {
  it('masks the code of an incoming-webhook URL', () => {
    expect(redact('GET https://p.bitrix24.com/rest/1/abc123xyz/crm.deal.get.json?id=1')).toBe(
      'GET https://p.bitrix24.com/rest/1/[REDACTED]/crm.deal.get.json?id=1',
    );
    expect(redact('base http://127.0.0.1:8080/rest/12/q1w2e3r4t5')).toBe('base http://127.0.0.1:8080/rest/12/[REDACTED]');
  });

  it('masks credentials in query strings, JSON and bearer headers', () => {
    expect(redact('/rest/crm.lead.add.json?auth=tok123456&x=1')).toBe('/rest/crm.lead.add.json?auth=[REDACTED]&x=1');
    expect(redact('grant_type=refresh_token&client_secret=s3cr3t&refresh_token=rt-999')).toBe(
      'grant_type=refresh_token&client_secret=[REDACTED]&refresh_token=[REDACTED]',
    );
    expect(redact('{"access_token":"abc","expires":3600}')).toBe('{"access_token":"[REDACTED]","expires":3600}');
    expect(redact('Authorization: Bearer eyJhbGciOi.x.y')).toBe('Authorization: Bearer [REDACTED]');
  });

  it('masks the password of credentials inside a URL, wherever the URL is', () => {
    expect(redact('POST https://erp-user:pa55:w0rd@erp.example/invoices failed')).toBe('POST https://erp-user:[REDACTED]@erp.example/invoices failed');
    expect(redact('{"url":"http://u:p%40ss@10.0.0.5:8080/x?y=1"}')).toBe('{"url":"http://u:[REDACTED]@10.0.0.5:8080/x?y=1"}');
    expect(redact('postgres://rules:db-secret@db.internal/b24')).toBe('postgres://rules:[REDACTED]@db.internal/b24');
    expect(redactValue({ params: { url: 'https://user:pw@erp/invoices' } })).toEqual({ params: { url: 'https://user:[REDACTED]@erp/invoices' } });
    // Not a password: a user alone, an e-mail address, a time with a colon.
    for (const text of ['https://user@host/x', 'mail ops@example.com at 10:30', 'see https://host:8443/a@b']) expect(redact(text)).toBe(text);
  });

  it('masks registered secret values wherever they appear', () => {
    registerSecret('super-secret-token-42');
    expect(redact('failed with token super-secret-token-42 in body')).toBe('failed with token [REDACTED] in body');
  });

  it('masks secret-named keys in objects, including nested auth objects', () => {
    const out = redactValue({ a: 1, access_token: 'x', nested: { auth: { access_token: 'y', domain: 'd.example' } }, list: ['/rest/1/codecode/'] });
    expect(out).toEqual({ a: 1, access_token: '[REDACTED]', nested: { auth: { access_token: '[REDACTED]', domain: 'd.example' } }, list: ['/rest/1/[REDACTED]/'] });
  });
});

describe('B24RulesError', () => {
  it('redacts its message and serialises without secrets', () => {
    registerSecret('client-secret-value');
    const err = new B24RulesError('X' as ErrorCode, 'bad call to https://h/rest/1/abcdef12/m with client-secret-value', { kind: 'operational' });
    expect(err.message).not.toContain('abcdef12');
    expect(err.message).not.toContain('client-secret-value');
    expect(err.toJSON()).toMatchObject({ code: 'X', kind: 'operational' });
  });
});

describe('logger', () => {
  it('writes JSON records with secrets redacted', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        cb();
      },
    });
    registerSecret('refresh-token-abcdef');
    const log = createLogger({ destination: destination as never, level: 'info' });
    log.info({ url: 'https://p/rest/3/hookcode99/x.json', refresh_token: 'refresh-token-abcdef' }, 'calling with refresh-token-abcdef');
    const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(rec.msg).toBe('calling with [REDACTED]');
    expect(rec.url).toBe('https://p/rest/3/[REDACTED]/x.json');
    expect(rec.refresh_token).toBe('[REDACTED]');
    expect(lines.join('\n')).not.toMatch(/hookcode99|refresh-token-abcdef/);
  });
});

describe('logger and Error objects', () => {
  it('keeps the message and stack of a logged Error, redacted (regression: they were dropped as {})', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        cb();
      },
    });
    const log = createLogger({ destination: destination as never });
    const err = new Error('POST https://p/rest/1/hooksecret1/crm.lead.add.json failed', { cause: new Error('socket hang up') });
    log.error({ err }, 'call failed');
    log.error(err);
    const a = JSON.parse(lines[0]!) as { err: { message: string; stack: string } };
    expect(a.err.message).toContain('POST https://p/rest/1/[REDACTED]/crm.lead.add.json failed');
    expect(a.err.stack).toContain('[REDACTED]');
    expect(a.err.message).toContain('socket hang up'); // pino's err serializer folds the cause into the message
    const b = JSON.parse(lines[1]!) as { err?: { message: string }; msg?: string };
    expect(JSON.stringify(b)).toContain('[REDACTED]/crm.lead.add.json failed');
    expect(lines.join('\n')).not.toContain('hooksecret1');
  });
});
