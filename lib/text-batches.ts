import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  DefinitionBody,
  StateMachine,
  StateMachineType,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeWildcardResource } from '#lib/nag.ts';
import { transientRetry, transitionLogs } from '#lib/state-machine-parts.ts';

export interface TextBatchesProps {
  /** Sends what is queued for one person as one text. */
  readonly send: IFunction;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/**
 * One short execution per person and grouping window: wait for the window to close, then send
 * everything queued for that person as one text (CONTRACT §2.7: no storms).
 */
export class TextBatches extends Construct {
  public readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: TextBatchesProps) {
    super(scope, id);
    const send = new LambdaInvoke(this, 'Send the queued texts', {
      lambdaFunction: props.send,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
    });
    send.addRetry(
      transientRetry([
        'TransientDeliveryError',
        'TransactionCanceledException',
        'Lambda.ServiceException',
        'Lambda.TooManyRequestsException',
      ]),
    );
    const window = new Wait(this, 'Wait for the window to close', {
      time: WaitTime.timestampPath('$.flushAt'),
    });
    this.stateMachine = new StateMachine(this, 'TextBatch', {
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(window.next(send)),
      tracingEnabled: true,
      logs: transitionLogs(this, props.logRetention),
    });
    acknowledge(
      this.stateMachine.role,
      'AwsSolutions-IAM5[Resource::*]',
      'CloudWatch Logs delivery and X-Ray support no resource-level permissions.',
    );
    acknowledgeWildcardResource(
      this.stateMachine.role,
      `${props.send.functionArn}:*`,
      'Versions and aliases of this one function, which LambdaInvoke may call; no other function matches.',
    );
  }

  /** Lets the timer step start text batches, and tells it the state machine's ARN. */
  grantSchedule(handler: IFunction & { addEnvironment(key: string, value: string): unknown }): void {
    this.stateMachine.grantStartExecution(handler);
    handler.addEnvironment('TEXT_BATCH_STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
  }
}
