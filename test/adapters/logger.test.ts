import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createLogger, type LoggerOptions, logRequests, redact, redactText } from '#adapters/logger.ts';

const NOW = new Date('2026-03-10T19:07:00.000Z');

function capture(options: Partial<LoggerOptions> = {}) {
  const lines: string[] = [];
  const logger = createLogger({
    service: 'test',
    write: (line) => lines.push(line),
    now: () => NOW,
    ...options,
  });
  const entries = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, entries };
}

describe('redactText', () => {
  it('replaces email addresses and phone numbers in free text', () => {
    expect(redactText('550 5.1.1 <purchasing@lonestarfab.example>: User unknown')).toBe(
      '550 5.1.1 <[email]>: User unknown',
    );
    expect(redactText('call +15125550101 or (512) 555-0102 or 512-555-0103 or 512.555.0104')).toBe(
      'call [phone] or [phone] or [phone] or [phone]',
    );
  });

  it('keeps dates, times, order ids and amounts', () => {
    const text = 'SO-10042 line 3 ships 2026-03-22 at 14:05, 20 ton, $18400, version 12345';
    expect(redactText(text)).toBe(text);
  });
});

describe('redact', () => {
  it('removes whole values under contact keys, whatever their shape', () => {
    expect(
      redact({
        customer: { id: 'C-881', name: 'Lone Star Fabrication', email: 'purchasing@lonestarfab.example' },
        to: ['dana.ortiz@svc.example'],
        phone: '+15125550101',
        destination: { ToAddresses: ['x@y.example'] },
      }),
    ).toEqual({
      customer: { id: 'C-881', name: 'Lone Star Fabrication', email: '[redacted]' },
      to: '[redacted]',
      phone: '[redacted]',
      destination: '[redacted]',
    });
  });

  it('keeps an error’s name, message and stack, redacted', () => {
    const error = new Error('MessageRejected: Email address is not verified: a@b.example');
    const redacted = redact(error) as { name: string; message: string; stack: string };
    expect(redacted.name).toBe('Error');
    expect(redacted.message).toBe('MessageRejected: Email address is not verified: [email]');
    expect(redacted.stack).not.toContain('a@b.example');
  });

  it('survives cycles, deep nesting, dates and bigints', () => {
    const cyclic: Record<string, unknown> = { at: NOW, count: 10n };
    cyclic.self = cyclic;
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 20; i++) deep = { deep };
    expect(redact(cyclic)).toEqual({ at: NOW.toISOString(), count: '10', self: '[circular]' });
    expect(JSON.stringify(redact(deep))).toContain('[truncated]');
  });
});

describe('the logger', () => {
  it('writes one JSON object per line with time, level, service and fields', () => {
    const { logger, entries } = capture();

    logger.info('notice sent', { backorder: 'SO-10042/3', revision: 1 });

    expect(entries()).toEqual([
      {
        timestamp: NOW.toISOString(),
        level: 'INFO',
        service: 'test',
        message: 'notice sent',
        backorder: 'SO-10042/3',
        revision: 1,
      },
    ]);
  });

  it('never writes a customer email or phone number, even inside a message or an error', () => {
    const { logger, lines } = capture();

    logger.error('could not reach purchasing@lonestarfab.example', {
      error: new Error('rejected +15125550101'),
      customer: { email: 'purchasing@lonestarfab.example' },
    });

    expect(lines.join('\n')).not.toMatch(/lonestarfab|5125550101/);
  });

  it('drops entries below its level', () => {
    const { logger, entries } = capture({ level: 'WARN' });

    logger.debug('a');
    logger.info('b');
    logger.warn('c');
    logger.error('d');

    expect(entries().map((entry) => entry.level)).toEqual(['WARN', 'ERROR']);
  });

  it('adds appended keys to later entries, and child fields to the child only', () => {
    const { logger, entries } = capture();
    logger.appendKeys({ requestId: 'req-1' });
    const child = logger.child({ backorder: 'SO-1/1' });

    child.info('child');
    logger.info('parent');

    expect(entries()).toEqual([
      expect.objectContaining({ message: 'child', requestId: 'req-1', backorder: 'SO-1/1' }),
      expect.not.objectContaining({ backorder: expect.anything() }),
    ]);
  });

  it('writes metrics as one CloudWatch embedded-metric-format document', () => {
    const { logger, entries } = capture({ namespace: 'BackorderWatch/test' });

    logger.metrics({
      NoticesSentAfterDeadline: { value: 1, unit: 'Count' },
      CustomerNoticesBounced: { value: 1, unit: 'Count' },
    });

    expect(entries()).toEqual([
      {
        _aws: {
          Timestamp: NOW.getTime(),
          CloudWatchMetrics: [
            {
              Namespace: 'BackorderWatch/test',
              Dimensions: [[]],
              Metrics: [
                { Name: 'NoticesSentAfterDeadline', Unit: 'Count' },
                { Name: 'CustomerNoticesBounced', Unit: 'Count' },
              ],
            },
          ],
        },
        service: 'test',
        NoticesSentAfterDeadline: 1,
        CustomerNoticesBounced: 1,
      },
    ]);
  });
});

describe('logRequests', () => {
  const context = { awsRequestId: 'req-42' } as Context;

  it('stamps entries with the Lambda request id', async () => {
    const { logger, entries } = capture();
    const handler = middy<{ n: number }, number>()
      .use(logRequests(logger))
      .handler(async (event) => {
        logger.info('handled');
        return event.n;
      });

    await handler({ n: 1 }, context);

    expect(entries()).toEqual([expect.objectContaining({ message: 'handled', requestId: 'req-42' })]);
  });

  it('logs an escaping error once, redacted, and lets it through', async () => {
    const { logger, entries } = capture();
    const handler = middy<unknown, void>()
      .use(logRequests(logger))
      .handler(async () => {
        throw new Error('bounced for purchasing@lonestarfab.example');
      });

    await expect(handler({}, context)).rejects.toThrow('bounced for');

    expect(entries()).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message: 'request failed',
        error: expect.objectContaining({ message: 'bounced for [email]' }),
      }),
    ]);
  });

  it('leaves errors to the HTTP error middleware when told to', async () => {
    const { logger, entries } = capture();
    const handler = middy<unknown, void>()
      .use(logRequests(logger, { logErrors: false }))
      .handler(async () => {
        throw new Error('401 for a bad signature');
      });

    await expect(handler({}, context)).rejects.toThrow();

    expect(entries()).toEqual([]);
  });
});
