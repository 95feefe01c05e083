/**
 * AWS list prices, us-east-1, on-demand, without free tiers (a free tier is per account, not per
 * backorder). One table, so every dollar figure of the bench can be traced to a line here.
 *
 * Table date: 2026-11-30. Sources: the public pricing pages named on each line, as last read by
 * the bench's authors; prices change, so check the page before quoting a figure to a customer.
 * Fixed monthly costs that do not grow with backorders are left out: Secrets Manager ($0.40 per
 * secret-month), CloudWatch alarms and dashboards, KMS keys, the SES dedicated IP, SMS origination
 * numbers (10DLC campaign or toll-free registration). Per-request logging (CloudWatch Logs
 * ingestion, $0.50/GB) and X-Ray traces ($5 per million recorded after 100,000 free) are left out
 * too and would add a few percent to the Lambda line.
 */
export const PRICES = {
  date: '2026-11-30',
  region: 'us-east-1',
  stepFunctions: {
    /** Standard workflows: per state transition, retries included. https://aws.amazon.com/step-functions/pricing/ */
    perStateTransition: 0.025 / 1_000,
  },
  lambda: {
    /** https://aws.amazon.com/lambda/pricing/ (requests) */
    perRequest: 0.2 / 1_000_000,
    /** Arm (Graviton), first 7.5 billion GB-s per month; billed per 1 ms. https://aws.amazon.com/lambda/pricing/ */
    perGbSecondArm: 0.0000133334,
  },
  apiGateway: {
    /** HTTP APIs, first 300 million requests per month, metered per 512 KB. https://aws.amazon.com/api-gateway/pricing/ */
    perHttpRequest: 1.0 / 1_000_000,
  },
  dynamoDb: {
    /** On-demand, Standard table class (prices since 2024-11-01). https://aws.amazon.com/dynamodb/pricing/on-demand/ */
    perWriteRequestUnit: 0.625 / 1_000_000,
    perReadRequestUnit: 0.125 / 1_000_000,
  },
  eventBridgeScheduler: {
    /** Per scheduled invocation, after 14 million free per month. https://aws.amazon.com/eventbridge/pricing/ */
    perInvocation: 1.0 / 1_000_000,
  },
  ses: {
    /** Outbound email, no attachments. https://aws.amazon.com/ses/pricing/ */
    perEmail: 0.1 / 1_000,
  },
  sns: {
    /** Publish API requests, after the first million per month. https://aws.amazon.com/sns/pricing/ */
    perPublish: 0.5 / 1_000_000,
    /**
     * SMS to a US number, per message part: the AWS End User Messaging SMS base price ($0.00581)
     * plus a typical US carrier fee for 10DLC ($0.00302; carriers charge $0.0025 to $0.0035).
     * https://aws.amazon.com/end-user-messaging/pricing/
     */
    perUsSmsPart: 0.00581 + 0.00302,
  },
} as const;

/** SMS parts of a text: 160 GSM-7 characters in one part, 153 per part when split; 70 / 67 for UCS-2. */
export function smsParts(message: string): number {
  const gsm = /^[\n\r A-Za-z0-9@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!"#¤%&'()*+,\-./:;<=>?¡ÄÖÑÜ§¿äöñüà^{}\\[~\]|€]*$/;
  const length = [...message].length;
  if (gsm.test(message)) return length <= 160 ? 1 : Math.ceil(length / 153);
  return length <= 70 ? 1 : Math.ceil(length / 67);
}
