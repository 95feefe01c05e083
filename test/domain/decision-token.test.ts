import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DecisionTokenPayload,
  ExpiredTokenError,
  ForgedTokenError,
  signDecisionToken,
  verifyDecisionToken,
} from '#domain/decision-token.ts';

const secret = Buffer.from('8d2f0c1e5a7b4c3d9e8f7a6b5c4d3e2f', 'hex');
const oldSecret = Buffer.from('00112233445566778899aabbccddeeff0011223344556677', 'hex');
const otherSecret = Buffer.from('ffeeddccbbaa99887766554433221100', 'hex');

const expiresAt = new Date('2026-03-24T19:05:00.000Z');
const before = new Date('2026-03-11T00:00:00.000Z');

const alternative: DecisionTokenPayload = {
  orderId: 'SO-10042',
  lineId: '3',
  revision: 2,
  choice: { kind: 'alternative', alternativeId: 'ALT-1' },
  expiresAt,
};
const wait: DecisionTokenPayload = { ...alternative, choice: { kind: 'wait' } };

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** What verify throws for a token, or 'ok'. */
function outcome(token: string, secrets: Buffer[] = [secret], now = before): string {
  try {
    verifyDecisionToken(token, secrets, now);
    return 'ok';
  } catch (error) {
    return error instanceof Error ? error.name : 'non-error';
  }
}

describe('signing and verifying a decision token', () => {
  it('round-trips a choice of an alternative', () => {
    const token = signDecisionToken(alternative, secret);
    expect(verifyDecisionToken(token, [secret], before)).toEqual(alternative);
  });

  it('round-trips a choice to wait', () => {
    const token = signDecisionToken(wait, secret);
    expect(verifyDecisionToken(token, [secret], before)).toEqual(wait);
  });

  it('round-trips ids with quotes, dots, slashes and non-ASCII characters', () => {
    const odd: DecisionTokenPayload = {
      orderId: 'SO/10042."x"',
      lineId: 'línea 3 ✓',
      revision: 12,
      choice: { kind: 'alternative', alternativeId: 'ALT.1 <b>' },
      expiresAt,
    };
    expect(verifyDecisionToken(signDecisionToken(odd, secret), [secret], before)).toEqual(odd);
  });

  it('truncates the expiry to the whole second, never extending it', () => {
    const token = signDecisionToken({ ...wait, expiresAt: new Date('2026-03-24T19:05:00.999Z') }, secret);
    expect(verifyDecisionToken(token, [secret], before).expiresAt).toEqual(expiresAt);
  });

  it('is versioned, URL-safe and compact', () => {
    const token = signDecisionToken(alternative, secret);
    expect(token).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(encodeURIComponent(token)).toBe(token);
    expect(token.length).toBeLessThanOrEqual(120);
  });

  it('stays within about 300 characters for long ERP ids', () => {
    const long = 'X'.repeat(40);
    const token = signDecisionToken(
      { ...alternative, orderId: long, lineId: '9999', choice: { kind: 'alternative', alternativeId: long } },
      secret,
    );
    expect(token.length).toBeLessThanOrEqual(300);
  });

  it('carries only the ids, the revision, the choice and the expiry', () => {
    const token = signDecisionToken(alternative, secret);
    const [, payload = ''] = token.split('.');
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))).toEqual([
      'SO-10042',
      '3',
      2,
      'ALT-1',
      expiresAt.getTime() / 1000,
    ]);
  });

  it('signs the same payload to the same token, and different choices to different tokens', () => {
    expect(signDecisionToken(alternative, secret)).toBe(signDecisionToken(alternative, secret));
    expect(signDecisionToken(alternative, secret)).not.toBe(signDecisionToken(wait, secret));
  });

  it('refuses to sign what it could never verify', () => {
    expect(() => signDecisionToken({ ...wait, revision: 0 }, secret)).toThrow(RangeError);
    expect(() => signDecisionToken({ ...wait, revision: 1.5 }, secret)).toThrow(RangeError);
    expect(() => signDecisionToken({ ...wait, orderId: '' }, secret)).toThrow(RangeError);
    expect(() => signDecisionToken({ ...wait, lineId: '' }, secret)).toThrow(RangeError);
    expect(() =>
      signDecisionToken({ ...wait, choice: { kind: 'alternative', alternativeId: '' } }, secret),
    ).toThrow(RangeError);
    expect(() => signDecisionToken({ ...wait, expiresAt: new Date(Number.NaN) }, secret)).toThrow(RangeError);
  });

  it('refuses a secret shorter than 128 bits', () => {
    expect(() => signDecisionToken(wait, Buffer.from('short secret'))).toThrow(RangeError);
  });
});

describe('a tampered or forged token', () => {
  it('is forged when any single character is changed to any other', () => {
    const token = signDecisionToken(alternative, secret);
    const replacements = `${BASE64URL_ALPHABET}.=+/ %`;
    for (let index = 0; index < token.length; index++) {
      for (const replacement of replacements) {
        if (replacement === token[index]) continue;
        const tampered = token.slice(0, index) + replacement + token.slice(index + 1);
        expect(outcome(tampered), `${index}: ${tampered}`).toBe('ForgedTokenError');
      }
    }
  });

  it('is forged when cut short or extended', () => {
    const token = signDecisionToken(alternative, secret);
    for (let length = 0; length < token.length; length++) {
      expect(outcome(token.slice(0, length))).toBe('ForgedTokenError');
    }
    for (const suffix of ['A', '=', '.', '.x', ' ', '%20']) {
      expect(outcome(token + suffix)).toBe('ForgedTokenError');
      expect(outcome(suffix + token)).toBe('ForgedTokenError');
    }
  });

  it('is forged when its payload is swapped for another genuine payload', () => {
    const [version, payload] = signDecisionToken(wait, secret).split('.');
    const [, , mac] = signDecisionToken(alternative, secret).split('.');
    expect(outcome(`${version}.${payload}.${mac}`)).toBe('ForgedTokenError');
  });

  it('is forged when signed with a secret that is not active', () => {
    expect(outcome(signDecisionToken(alternative, otherSecret))).toBe('ForgedTokenError');
    expect(outcome(signDecisionToken(alternative, secret), [])).toBe('ForgedTokenError');
  });

  it('is forged, not expired, when both forged and past its expiry', () => {
    const token = signDecisionToken(alternative, otherSecret);
    expect(outcome(token, [secret], new Date('2030-01-01T00:00:00Z'))).toBe('ForgedTokenError');
  });

  it('is forged when a genuine MAC covers a payload this service would never write', () => {
    const mac = (signed: string) =>
      createHmac('sha256', secret).update('decision.').update(signed).digest('base64url');
    const token = (fields: unknown) => {
      const signed = `v1.${Buffer.from(JSON.stringify(fields)).toString('base64url')}`;
      return `${signed}.${mac(signed)}`;
    };
    const future = expiresAt.getTime() / 1000;
    expect(outcome(token(['SO-1', '3', 1, null, future]))).toBe('ok');
    for (const fields of [
      {},
      [],
      ['SO-1', '3', 1, null],
      ['SO-1', '3', 1, null, future, 'extra'],
      ['', '3', 1, null, future],
      ['SO-1', '', 1, null, future],
      ['SO-1', 3, 1, null, future],
      ['SO-1', '3', 0, null, future],
      ['SO-1', '3', '1', null, future],
      ['SO-1', '3', 1.5, null, future],
      ['SO-1', '3', 1, '', future],
      ['SO-1', '3', 1, 7, future],
      ['SO-1', '3', 1, null, 'tomorrow'],
      ['SO-1', '3', 1, null, -1],
    ]) {
      expect(outcome(token(fields)), JSON.stringify(fields)).toBe('ForgedTokenError');
    }
    const notJson = `v1.${Buffer.from('{not json').toString('base64url')}`;
    expect(outcome(`${notJson}.${mac(notJson)}`)).toBe('ForgedTokenError');
  });
});

describe('rotating secrets', () => {
  it('verifies a token signed with the old secret while both are active', () => {
    const token = signDecisionToken(alternative, oldSecret);
    expect(verifyDecisionToken(token, [secret, oldSecret], before)).toEqual(alternative);
  });

  it('verifies a token signed with the new secret while both are active', () => {
    const token = signDecisionToken(alternative, secret);
    expect(verifyDecisionToken(token, [secret, oldSecret], before)).toEqual(alternative);
  });

  it('no longer verifies the old secret’s tokens once it is retired', () => {
    expect(outcome(signDecisionToken(alternative, oldSecret), [secret])).toBe('ForgedTokenError');
  });
});

describe('expiry', () => {
  const token = signDecisionToken(alternative, secret);

  it('is valid up to the last millisecond before expiresAt', () => {
    expect(outcome(token, [secret], new Date(expiresAt.getTime() - 1))).toBe('ok');
  });

  it('is expired at expiresAt and after', () => {
    expect(outcome(token, [secret], expiresAt)).toBe('ExpiredTokenError');
    expect(outcome(token, [secret], new Date(expiresAt.getTime() + 86_400_000))).toBe('ExpiredTokenError');
  });

  it('tells what the expired token named', () => {
    try {
      verifyDecisionToken(token, [secret], expiresAt);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ExpiredTokenError);
      expect((error as ExpiredTokenError).payload).toEqual(alternative);
    }
  });
});

describe('garbage input', () => {
  const onlyForged = (input: string) => {
    expect(() => verifyDecisionToken(input, [secret], before)).toThrow(ForgedTokenError);
  };

  it('throws only ForgedTokenError for hand-picked nonsense', () => {
    for (const input of [
      '',
      '.',
      '..',
      '...',
      'v1',
      'v1.',
      'v1..',
      'v1.e30.',
      'v2.e30.AAAA',
      'V1.e30.AAAA',
      'v1.%%%.%%%',
      'v1.e30=.AAAA',
      `v1.${'A'.repeat(10_000)}.${'A'.repeat(43)}`,
      'x'.repeat(1_000_000),
      '\u0000\uffff\ud800',
      'null',
      '__proto__',
    ]) {
      onlyForged(input);
    }
  });

  it('throws only ForgedTokenError for a non-string at runtime', () => {
    for (const input of [undefined, null, 42, {}, [], Symbol('x')]) {
      expect(() => verifyDecisionToken(input as unknown as string, [secret], before)).toThrow(
        ForgedTokenError,
      );
    }
  });

  it('throws only ForgedTokenError for arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), onlyForged), { numRuns: 2_000 });
  });

  it('throws only ForgedTokenError for arbitrary token-shaped strings', () => {
    const segment = fc.string({ unit: fc.constantFrom(...BASE64URL_ALPHABET), maxLength: 120 });
    fc.assert(
      fc.property(fc.constantFrom('v1', 'v2', ''), segment, segment, (version, payload, mac) =>
        onlyForged(`${version}.${payload}.${mac}`),
      ),
      { numRuns: 2_000 },
    );
  });

  it('throws only ForgedTokenError for genuine payloads with arbitrary MACs', () => {
    const [version, payload] = signDecisionToken(alternative, secret).split('.');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) =>
        onlyForged(`${version}.${payload}.${Buffer.from(bytes).toString('base64url')}`),
      ),
      { numRuns: 500 },
    );
  });
});
