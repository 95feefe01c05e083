import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { Grant } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeWildcardResource } from '#lib/nag.ts';
import { transientRetry, transitionLogs } from '#lib/state-machine-parts.ts';

export interface WorkflowProps {
  /** Performs what is due for one backorder generation and says when to wake next. */
  readonly step: IFunction;
  /** Records a failed execution on the backorder and tells its owner. */
  readonly failure: IFunction;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/**
 * The backorder timer: one Standard execution per record generation, looping
 * act → anything more due? → wait until it is due → act. Three transitions per wake-up;
 * waits are free. The loop holds no business rules: the step Lambda plans from the record.
 * Standard executions end after a year: 360 days in, the step starts a continuation of the same
 * generation and this execution ends (one extra execution per open year).
 */
export class Workflow extends Construct {
  public readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);

    const recordFailure = new LambdaInvoke(this, 'Record the failure and tell the owner', {
      lambdaFunction: props.failure,
      payloadResponseOnly: true,
      resultPath: '$.failureRecorded',
    });
    recordFailure.addRetry({ maxAttempts: 3, interval: Duration.seconds(5), backoffRate: 2 });
    recordFailure.next(
      new Fail(this, 'Timer failed', { causePath: '$.error.Cause', errorPath: '$.error.Error' }),
    );

    // Named, so the step can be allowed to continue its own timer without a dependency cycle.
    const stateMachineName = `${Stack.of(this).stackName}-BackorderTimer`;
    const act = new LambdaInvoke(this, 'Act on what is due', {
      lambdaFunction: props.step,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      // The execution's start and machine let the step continue as a new execution before
      // Standard's one-year limit.
      payload: TaskInput.fromObject({
        'orderId.$': '$.orderId',
        'lineId.$': '$.lineId',
        'generation.$': '$.generation',
        'startedAt.$': '$$.Execution.StartTime',
        'stateMachineArn.$': '$$.StateMachine.Id',
      }),
    });
    act.addRetry(
      transientRetry([
        'TransientDeliveryError',
        'VersionConflictError',
        'Lambda.ServiceException',
        'Lambda.AWSLambdaException',
        'Lambda.SdkClientException',
        'Lambda.TooManyRequestsException',
      ]),
    );
    // Anything else (a crash, a timeout) gets one more try before it is reported.
    act.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(10), maxAttempts: 1 });
    act.addCatch(recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });

    const wait = new Wait(this, 'Wait until it is due', { time: WaitTime.timestampPath('$.wakeAt') });
    const more = new Choice(this, 'Anything more due?')
      .when(Condition.isPresent('$.wakeAt'), wait.next(act))
      .otherwise(new Succeed(this, 'Nothing more is owed'));

    this.stateMachine = new StateMachine(this, 'BackorderTimer', {
      stateMachineName,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(act.next(more)),
      tracingEnabled: true,
      logs: transitionLogs(this, props.logRetention),
    });

    this.grantContinuation(props.step, stateMachineName);

    const role = this.stateMachine.role;
    acknowledge(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'CloudWatch Logs delivery (logs:CreateLogDelivery and friends) and X-Ray (xray:PutTraceSegments) support no resource-level permissions; test/infra asserts they are the only actions granted on "*".',
    );
    for (const fn of [props.step, props.failure]) {
      acknowledgeWildcardResource(
        role,
        `${fn.functionArn}:*`,
        'Versions and aliases of this one function, which LambdaInvoke may call; no other function matches.',
      );
    }
  }

  /** Lets the step start (and describe) a continuation of its own timer, by the machine's name. */
  private grantContinuation(step: IFunction, stateMachineName: string): void {
    const stack = Stack.of(this);
    const arn = (resource: string, resourceName: string) =>
      stack.formatArn({
        service: 'states',
        resource,
        resourceName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    Grant.addToPrincipal({
      grantee: step,
      actions: ['states:StartExecution'],
      resourceArns: [arn('stateMachine', stateMachineName)],
    });
    const executions = arn('execution', `${stateMachineName}:*`);
    Grant.addToPrincipal({
      grantee: step,
      actions: ['states:DescribeExecution'],
      resourceArns: [executions],
    });
    if (!step.role) throw new Error(`${step.node.path} has no role`);
    acknowledgeWildcardResource(
      step.role,
      executions,
      "The backorder timer's own executions, to recognise a continuation it already started.",
    );
  }

  /**
   * Lets a handler hand backorders over to their timers (CONTRACT: one execution per record
   * generation): start executions, and describe or stop this state machine's executions only.
   * Tells the handler the state machine's ARN.
   */
  grantHandOver(handler: IFunction & { addEnvironment(key: string, value: string): unknown }): void {
    const machine = this.stateMachine;
    machine.grantStartExecution(handler);
    const executions = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${machine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    Grant.addToPrincipal({
      grantee: handler,
      actions: ['states:DescribeExecution', 'states:StopExecution'],
      resourceArns: [executions],
    });
    handler.addEnvironment('STATE_MACHINE_ARN', machine.stateMachineArn);
    if (!handler.role) throw new Error(`${handler.node.path} has no role to grant the hand-over to`);
    acknowledgeWildcardResource(
      handler.role,
      executions,
      'The executions of the backorder timer alone: they are named per backorder generation at run time, so no narrower ARN exists.',
    );
  }
}
