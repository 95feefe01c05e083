import { RemovalPolicy } from 'aws-cdk-lib';
import { type CfnStage, CorsHttpMethod, HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import {
  AccountRecovery,
  FeaturePlan,
  Mfa,
  StandardThreatProtectionMode,
  UserPool,
  UserPoolClient,
} from 'aws-cdk-lib/aws-cognito';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from '#lib/nag.ts';

export interface ApiProps {
  readonly erpEvents: IFunction;
  readonly backordersRead: IFunction;
  readonly decisions: IFunction;
  /** `GET`/`POST /v1/reviews/{token}`: an owner's review of a pending notice. */
  readonly noticeReviews: IFunction;
  readonly openApi: IFunction;
  /** `GET /v1/review`: the morning review for operators. */
  readonly review: IFunction;
  /** `GET /v1/insights`. */
  readonly insights: IFunction;
  /** `GET /v1/safety-stock`. */
  readonly safetyStock: IFunction;
  /** Steady-state requests per second across the API. @default 50 */
  readonly rateLimit?: number;
  /** @default 100 */
  readonly burstLimit?: number;
  /** Origins allowed to call the API from a browser. @default none: CORS closed */
  readonly corsOrigins?: readonly string[];
  /** @default RetentionDays.ONE_MONTH */
  readonly accessLogRetention?: RetentionDays;
  /** Cognito threat protection (the Plus feature plan) on operators' sign-ins. @default false */
  readonly operatorThreatProtection?: boolean;
  /** Keep the operators' user pool when the stack goes away. @default true */
  readonly retainOperators?: boolean;
}

/** Access log fields: the route key, never the raw path, which carries decision tokens. */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  sourceIp: '$context.identity.sourceIp',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
});

/**
 * The public HTTP API. The ERP route authenticates by HMAC signature inside its handler (an
 * authorizer never sees the body); operators' routes need a Cognito JWT; decision links carry
 * their own signed token. The stage is throttled and access-logged; CORS is closed unless
 * origins are given.
 */
export class Api extends Construct {
  public readonly httpApi: HttpApi;
  public readonly operators: UserPool;
  public readonly operatorsClient: UserPoolClient;
  public readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const corsOrigins = props.corsOrigins ?? [];
    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'Backorder Watch',
      ...(corsOrigins.length > 0
        ? {
            corsPreflight: {
              allowOrigins: [...corsOrigins],
              allowMethods: [CorsHttpMethod.GET, CorsHttpMethod.POST],
              allowHeaders: ['authorization', 'content-type'],
            },
          }
        : {}),
    });
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stage = this.httpApi.defaultStage?.node.defaultChild as CfnStage;
    stage.defaultRouteSettings = {
      throttlingRateLimit: props.rateLimit ?? 50,
      throttlingBurstLimit: props.burstLimit ?? 100,
    };
    stage.accessLogSettings = { destinationArn: this.accessLogs.logGroupArn, format: ACCESS_LOG_FORMAT };

    const threatProtection = props.operatorThreatProtection ?? false;
    this.operators = new UserPool(this, 'Operators', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
      },
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      featurePlan: threatProtection ? FeaturePlan.PLUS : FeaturePlan.ESSENTIALS,
      ...(threatProtection
        ? { standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION }
        : {}),
      removalPolicy: (props.retainOperators ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    if (!threatProtection) {
      acknowledge(
        this.operators,
        'AwsSolutions-COG8',
        'A non-production stage: a handful of invited operators (no self sign-up) with TOTP MFA required; the prod stage turns on the Plus plan with threat protection enforced.',
      );
    }
    this.operatorsClient = new UserPoolClient(this, 'OperatorsClient', {
      userPool: this.operators,
      generateSecret: false,
      // SRP for apps; password sign-in (still followed by the TOTP challenge) for the CLI, see docs/deploy.md.
      authFlows: { userSrp: true, userPassword: true },
      preventUserExistenceErrors: true,
    });
    const operatorsOnly = new HttpUserPoolAuthorizer('Operators', this.operators, {
      userPoolClients: [this.operatorsClient],
    });

    const route = (
      path: string,
      methods: HttpMethod[],
      fn: IFunction,
      name: string,
      access: { operators: true } | { public: string },
    ) => {
      const routes = this.httpApi.addRoutes({
        path,
        methods,
        integration: new HttpLambdaIntegration(name, fn),
        ...('operators' in access ? { authorizer: operatorsOnly } : {}),
      });
      if ('public' in access) {
        for (const created of routes) acknowledge(created, 'AwsSolutions-APIG4', access.public);
      }
    };
    route('/v1/erp/events', [HttpMethod.POST], props.erpEvents, 'ErpEvents', {
      public:
        'The ERP authenticates every webhook with a Standard Webhooks HMAC signature over the raw body, verified in the handler (an authorizer never sees the body); unsigned or stale requests get 401.',
    });
    route('/v1/backorders', [HttpMethod.GET], props.backordersRead, 'ListBackorders', { operators: true });
    route('/v1/backorders/{orderId}/{lineId}', [HttpMethod.GET], props.backordersRead, 'GetBackorder', {
      operators: true,
    });
    route('/v1/review', [HttpMethod.GET], props.review, 'Review', { operators: true });
    route('/v1/insights', [HttpMethod.GET], props.insights, 'Insights', { operators: true });
    route('/v1/safety-stock', [HttpMethod.GET], props.safetyStock, 'SafetyStock', { operators: true });
    route('/v1/decisions/{token}', [HttpMethod.GET, HttpMethod.POST], props.decisions, 'Decisions', {
      public:
        'Customers follow decision links from their notice email without an account: each link carries its own signed, expiring token naming one backorder, notice and choice, verified in the handler.',
    });
    route('/v1/reviews/{token}', [HttpMethod.GET, HttpMethod.POST], props.noticeReviews, 'NoticeReviews', {
      public:
        'Owners follow review links from their review email: each link carries its own signed, expiring token naming one backorder and notice, verified in the handler, like a decision link.',
    });
    route('/v1/openapi.json', [HttpMethod.GET], props.openApi, 'OpenApi', {
      public:
        'The OpenAPI document of the ERP contract is public by design: it holds no data, only the schema.',
    });
  }
}
