import { type CfnStage, HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { UserPool, UserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface ApiProps {
  readonly erpEvents: IFunction;
  readonly backordersRead: IFunction;
  readonly decisions: IFunction;
  readonly openApi: IFunction;
  /** Steady-state requests per second across the API. @default 50 */
  readonly rateLimit?: number;
  /** @default 100 */
  readonly burstLimit?: number;
}

/**
 * The public HTTP API. The ERP route authenticates by HMAC signature inside its handler (an
 * authorizer never sees the body); operators' routes need a Cognito JWT; decision links carry
 * their own signed token.
 */
export class Api extends Construct {
  public readonly httpApi: HttpApi;
  public readonly operators: UserPool;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    this.httpApi = new HttpApi(this, 'HttpApi', { description: 'Backorder Watch' });
    const stage = this.httpApi.defaultStage?.node.defaultChild as CfnStage;
    stage.defaultRouteSettings = {
      throttlingRateLimit: props.rateLimit ?? 50,
      throttlingBurstLimit: props.burstLimit ?? 100,
    };

    this.operators = new UserPool(this, 'Operators', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      passwordPolicy: { minLength: 12, requireSymbols: true, requireDigits: true },
    });
    const client = new UserPoolClient(this, 'OperatorsClient', {
      userPool: this.operators,
      generateSecret: false,
    });
    const operatorsOnly = new HttpUserPoolAuthorizer('Operators', this.operators, {
      userPoolClients: [client],
    });

    const route = (path: string, methods: HttpMethod[], fn: IFunction, name: string, secured = false) =>
      this.httpApi.addRoutes({
        path,
        methods,
        integration: new HttpLambdaIntegration(name, fn),
        ...(secured ? { authorizer: operatorsOnly } : {}),
      });
    route('/v1/erp/events', [HttpMethod.POST], props.erpEvents, 'ErpEvents');
    route('/v1/backorders', [HttpMethod.GET], props.backordersRead, 'ListBackorders', true);
    route('/v1/backorders/{orderId}/{lineId}', [HttpMethod.GET], props.backordersRead, 'GetBackorder', true);
    route('/v1/decisions/{token}', [HttpMethod.GET, HttpMethod.POST], props.decisions, 'Decisions');
    route('/v1/openapi.json', [HttpMethod.GET], props.openApi, 'OpenApi');
  }
}
