import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseSecrets } from '#adapters/webhook-signature.ts';

/**
 * Signing secrets, several at once while rotating (space-separated). Deployed, `<NAME>_ARN`
 * names a Secrets Manager secret read once per cold start; locally, `<NAME>` holds the value.
 * `whsec_<base64>` values are decoded as Standard Webhooks defines; any other value of at least
 * 32 characters (a generated Secrets Manager password) is used as its own bytes.
 */
export async function loadSecrets(name: string): Promise<Buffer[]> {
  const arn = process.env[`${name}_ARN`];
  let value = process.env[name];
  if (arn) {
    const secret = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: arn }));
    value = secret.SecretString;
  }
  if (!value) throw new Error(`environment variable ${name} or ${name}_ARN is not set`);
  if (value.startsWith('whsec_')) return parseSecrets(value);
  const keys = value.split(/\s+/).filter(Boolean);
  if (keys.length === 0 || keys.some((key) => key.length < 32)) {
    throw new Error(`${name} must be whsec_<base64> or at least 32 characters`);
  }
  return keys.map((key) => Buffer.from(key, 'utf8'));
}
