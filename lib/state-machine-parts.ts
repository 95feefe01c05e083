import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { JitterType, LogLevel, type LogOptions, type RetryProps } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

/** What both state machines share: how a Lambda step retries what passes with time, and how they log. */

/** Throttled SES/SNS, a lost race on a record, Lambda's own hiccups: backoff with full jitter. */
export function transientRetry(errors: string[]): RetryProps {
  return {
    errors,
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 8,
    maxDelay: Duration.minutes(5),
    jitterStrategy: JitterType.FULL,
  };
}

/**
 * Every state transition, but never its data: inputs and outputs are keys and instants today,
 * and must not become customer details tomorrow.
 */
export function transitionLogs(scope: Construct, retention = RetentionDays.ONE_MONTH): LogOptions {
  return {
    destination: new LogGroup(scope, 'Logs', { retention, removalPolicy: RemovalPolicy.DESTROY }),
    level: LogLevel.ALL,
    includeExecutionData: false,
  };
}
