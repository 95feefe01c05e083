import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/** The deployment stages: `dev` is disposable, `prod` keeps its data and pages someone. */
export const STAGES = ['dev', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

/** Everything that differs between stages, in one place. */
export interface StageSettings {
  readonly stage: Stage;
  /** Retain the table (and refuse to delete it) when the stack goes away. */
  readonly retainData: boolean;
  /** Retention of every log group: functions, state machine, API access logs. */
  readonly logRetention: RetentionDays;
  /** Whether alarms notify the ops topic; dev alarms exist (and show on the dashboard) but stay quiet. */
  readonly alarmActions: boolean;
  /** Cognito threat protection (the Plus feature plan) for the operators' user pool. */
  readonly operatorThreatProtection: boolean;
}

const SETTINGS: Record<Stage, StageSettings> = {
  dev: {
    stage: 'dev',
    retainData: false,
    logRetention: RetentionDays.ONE_WEEK,
    alarmActions: false,
    operatorThreatProtection: false,
  },
  prod: {
    stage: 'prod',
    retainData: true,
    logRetention: RetentionDays.THREE_MONTHS,
    alarmActions: true,
    operatorThreatProtection: true,
  },
};

export class UnknownStageError extends Error {
  override readonly name = 'UnknownStageError';
}

/** The settings of a stage name (from `-c stage=…`); an unknown name fails synth rather than deploying half-configured. */
export function stageSettings(stage: string): StageSettings {
  if (!(STAGES as readonly string[]).includes(stage)) {
    throw new UnknownStageError(`unknown stage "${stage}": use one of ${STAGES.join(', ')}`);
  }
  return SETTINGS[stage as Stage];
}
