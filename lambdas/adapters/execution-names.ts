import { createHash } from 'node:crypto';

/**
 * Step Functions execution names allow 80 characters of [A-Za-z0-9_-]: a readable prefix of
 * `readable`, and a hash of the exact value, so that different values never share a name.
 */
export function safeName(
  readable: string,
  exact: string,
  readableChars: number,
  digestChars: number,
): string {
  return `${readable.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, readableChars)}-${digest(exact, digestChars)}`;
}

/** The first `chars` hex digits of the SHA-256 of `value`. */
export function digest(value: string, chars: number): string {
  return createHash('sha256').update(value).digest('hex').slice(0, chars);
}
