/**
 * Resolves CloudFormation intrinsic functions in a synthesized template, so that the local
 * runtime can read what CloudFormation would have deployed: a state machine's definition (a
 * `Fn::Join` around Lambda ARNs) as plain ASL, a function's environment as plain strings.
 */

/** A JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** What `Ref` and `Fn::GetAtt` answer for one resource, as CloudFormation would once deployed. */
export interface ResourceIdentity {
  /** What `Ref` returns (a name for most types, an ARN for topics and state machines). */
  readonly ref: string;
  /** What `Fn::GetAtt` returns, by attribute name (e.g. `Arn`). */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** One resource of a template, as read here. */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties: Readonly<Record<string, unknown>>;
  readonly Metadata: Readonly<Record<string, unknown>>;
}

/** Options of {@link TemplateResolver}. */
export interface TemplateResolverOptions {
  /** @default `us-east-1` */
  readonly region?: string;
  /** @default `000000000000` */
  readonly accountId?: string;
  /** @default `Local` */
  readonly stackName?: string;
  /** Values of template parameters; otherwise their `Default`. */
  readonly parameters?: Readonly<Record<string, string>>;
  /** Identities to use instead of the local defaults of {@link localIdentity}, by logical id. */
  readonly identities?: Readonly<Record<string, ResourceIdentity>>;
}

/** The region the local runtime pretends to be in. */
export const LOCAL_REGION = 'us-east-1';
/** The account the local runtime pretends to be. */
export const LOCAL_ACCOUNT_ID = '000000000000';

/** Marks `AWS::NoValue`: the property or list item disappears. */
const NO_VALUE: unique symbol = Symbol('AWS::NoValue');
type Resolved = JsonValue | typeof NO_VALUE;

interface Environment {
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
  readonly stackName: string;
}

/**
 * The identity the local runtime gives a resource: its literal physical name when the template
 * sets one, else its logical id, and ARNs in the local region and account.
 */
export function localIdentity(
  logicalId: string,
  resource: TemplateResource,
  env: { readonly region: string; readonly accountId: string; readonly partition?: string },
  physicalName?: string,
): ResourceIdentity {
  const { region, accountId } = env;
  const partition = env.partition ?? 'aws';
  const props = resource.Properties;
  const named = (key: string): string => {
    const value = props[key];
    return physicalName ?? (typeof value === 'string' ? value : logicalId);
  };
  switch (resource.Type) {
    case 'AWS::Lambda::Function': {
      const name = named('FunctionName');
      return {
        ref: name,
        attributes: { Arn: `arn:${partition}:lambda:${region}:${accountId}:function:${name}` },
      };
    }
    case 'AWS::StepFunctions::StateMachine': {
      const name = named('StateMachineName');
      const arn = `arn:${partition}:states:${region}:${accountId}:stateMachine:${name}`;
      return { ref: arn, attributes: { Arn: arn, Name: name } };
    }
    case 'AWS::DynamoDB::Table': {
      const name = named('TableName');
      const arn = `arn:${partition}:dynamodb:${region}:${accountId}:table/${name}`;
      return { ref: name, attributes: { Arn: arn, StreamArn: `${arn}/stream/1970-01-01T00:00:00.000` } };
    }
    case 'AWS::SNS::Topic': {
      const name = named('TopicName');
      const arn = `arn:${partition}:sns:${region}:${accountId}:${name}`;
      return { ref: arn, attributes: { TopicArn: arn, TopicName: name } };
    }
    case 'AWS::SQS::Queue': {
      const name = named('QueueName');
      const url = `https://sqs.${region}.amazonaws.com/${accountId}/${name}`;
      return {
        ref: url,
        attributes: {
          Arn: `arn:${partition}:sqs:${region}:${accountId}:${name}`,
          QueueName: name,
          QueueUrl: url,
        },
      };
    }
    case 'AWS::IAM::Role': {
      const name = named('RoleName');
      return {
        ref: name,
        attributes: { Arn: `arn:${partition}:iam::${accountId}:role/${name}`, RoleId: name },
      };
    }
    case 'AWS::Logs::LogGroup': {
      const name = named('LogGroupName');
      return {
        ref: name,
        attributes: { Arn: `arn:${partition}:logs:${region}:${accountId}:log-group:${name}:*` },
      };
    }
    case 'AWS::S3::Bucket': {
      const name = named('BucketName').toLowerCase();
      return {
        ref: name,
        attributes: {
          Arn: `arn:${partition}:s3:::${name}`,
          DomainName: `${name}.s3.amazonaws.com`,
          RegionalDomainName: `${name}.s3.${region}.amazonaws.com`,
        },
      };
    }
    default: {
      // service and type from `AWS::Service::Type`, for a plausible ARN that nothing local checks
      const [, service = 'local', type = 'resource'] = resource.Type.split('::');
      const arn = `arn:${partition}:${service.toLowerCase()}:${region}:${accountId}:${type.toLowerCase()}/${logicalId}`;
      return { ref: logicalId, attributes: { Arn: arn, Name: logicalId } };
    }
  }
}

/**
 * Identities for resources the local runtime created under other names (e.g. the tables
 * `createTablesFromTemplate` prefixes), by logical id: `Ref` and ARNs then use those names.
 */
export function identitiesFromNames(
  template: Readonly<Record<string, unknown>>,
  physicalNames: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
  env: { readonly region?: string; readonly accountId?: string } = {},
): Record<string, ResourceIdentity> {
  const resources = readResources(template.Resources);
  const entries = physicalNames instanceof Map ? [...physicalNames] : Object.entries(physicalNames);
  const identities: Record<string, ResourceIdentity> = {};
  for (const [logicalId, name] of entries) {
    const resource = resources.get(logicalId);
    if (!resource) throw new Error(`the template has no resource ${logicalId}`);
    identities[logicalId] = localIdentity(
      logicalId,
      resource,
      { region: env.region ?? LOCAL_REGION, accountId: env.accountId ?? LOCAL_ACCOUNT_ID },
      name,
    );
  }
  return identities;
}

/**
 * Resolves the intrinsic functions of one template: `Ref` (resources, parameters and pseudo
 * parameters), `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select`, `Fn::Split`, `Fn::FindInMap`,
 * `Fn::If` with the template's conditions, `Fn::Base64`, `Fn::GetAZs`, `Fn::ToJsonString` and
 * `Fn::Length`. `Fn::ImportValue` and anything else unknown throws, naming the path.
 */
export class TemplateResolver {
  /** The region used for `AWS::Region` and local ARNs. */
  readonly region: string;
  /** The account used for `AWS::AccountId` and local ARNs. */
  readonly accountId: string;
  readonly #env: Environment;
  readonly #resources: ReadonlyMap<string, TemplateResource>;
  readonly #identities: Readonly<Record<string, ResourceIdentity>>;
  readonly #parameters: Readonly<Record<string, string>>;
  readonly #templateParameters: Readonly<Record<string, unknown>>;
  readonly #mappings: Readonly<Record<string, unknown>>;
  readonly #conditions: Readonly<Record<string, unknown>>;
  readonly #conditionValues = new Map<string, boolean>();

  constructor(template: Readonly<Record<string, unknown>>, options: TemplateResolverOptions = {}) {
    this.region = options.region ?? LOCAL_REGION;
    this.accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
    this.#env = {
      region: this.region,
      accountId: this.accountId,
      partition: 'aws',
      stackName: options.stackName ?? 'Local',
    };
    this.#resources = readResources(template.Resources);
    this.#identities = options.identities ?? {};
    this.#parameters = options.parameters ?? {};
    this.#templateParameters = asRecord(template.Parameters) ?? {};
    this.#mappings = asRecord(template.Mappings) ?? {};
    this.#conditions = asRecord(template.Conditions) ?? {};
  }

  /** Logical ids and resources of the template, optionally of one type, in template order. */
  resources(type?: string): Array<[string, TemplateResource]> {
    return [...this.#resources].filter(([, resource]) => type === undefined || resource.Type === type);
  }

  /** One resource by logical id; throws when the template has no such resource. */
  resource(logicalId: string): TemplateResource {
    const resource = this.#resources.get(logicalId);
    if (!resource) throw new Error(`the template has no resource ${logicalId}`);
    return resource;
  }

  /** What `Ref` and `Fn::GetAtt` answer for a resource: the given identity, else the local default. */
  identity(logicalId: string): ResourceIdentity {
    const given = this.#identities[logicalId];
    if (given) return given;
    return localIdentity(logicalId, this.resource(logicalId), this.#env);
  }

  /** Resolves every intrinsic function in `value`. */
  resolve(value: unknown): JsonValue {
    const resolved = this.#resolve(value, '$');
    return resolved === NO_VALUE ? null : resolved;
  }

  /** Resolves `value` and requires a string (e.g. an environment variable). */
  resolveString(value: unknown, path = '$'): string {
    const resolved = this.#resolve(value, path);
    if (typeof resolved === 'string') return resolved;
    if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
    throw new Error(`${path} does not resolve to a string`);
  }

  /**
   * The ASL definition of an `AWS::StepFunctions::StateMachine`, from `DefinitionString` or
   * `Definition`, with `DefinitionSubstitutions` applied.
   */
  stateMachineDefinition(logicalId: string): JsonObject {
    const resource = this.resource(logicalId);
    if (resource.Type !== 'AWS::StepFunctions::StateMachine') {
      throw new Error(`${logicalId} is a ${resource.Type}, not a state machine`);
    }
    const props = resource.Properties;
    const substitutions =
      props.DefinitionSubstitutions === undefined
        ? {}
        : (asRecord(this.resolve(props.DefinitionSubstitutions)) ?? {});
    const substitute = (text: string): string =>
      text.replace(/\$\{([^}]+)\}/g, (whole, key: string) => {
        const value = substitutions[key];
        return value === undefined ? whole : typeof value === 'string' ? value : JSON.stringify(value);
      });
    let definition: unknown;
    if (props.DefinitionString !== undefined) {
      definition = JSON.parse(
        substitute(this.resolveString(props.DefinitionString, `${logicalId}.DefinitionString`)),
      );
    } else if (props.Definition !== undefined) {
      definition = JSON.parse(substitute(JSON.stringify(this.resolve(props.Definition))));
    } else {
      throw new Error(
        `${logicalId} has neither DefinitionString nor Definition (DefinitionS3Location is not read locally)`,
      );
    }
    const object = asJsonObject(definition);
    if (!object) throw new Error(`${logicalId}'s definition is not a JSON object`);
    return object;
  }

  /** The environment variables of an `AWS::Lambda::Function`, resolved to plain strings. */
  functionEnvironment(logicalId: string): Record<string, string> {
    const resource = this.resource(logicalId);
    const variables = asRecord(asRecord(resource.Properties.Environment)?.Variables) ?? {};
    const environment: Record<string, string> = {};
    for (const [name, value] of Object.entries(variables)) {
      environment[name] = this.resolveString(value, `${logicalId}.Environment.Variables.${name}`);
    }
    return environment;
  }

  #resolve(value: unknown, path: string): Resolved {
    if (
      value === null ||
      typeof value === 'string' ||
      typeof value === 'number' ||
      typeof value === 'boolean'
    ) {
      return value;
    }
    if (Array.isArray(value)) {
      return value.map((item, i) => this.#resolve(item, `${path}[${i}]`)).filter(isValue);
    }
    const record = asRecord(value);
    if (!record) throw new Error(`${path} is not JSON`);
    const keys = Object.keys(record);
    const [key] = keys;
    if (
      keys.length === 1 &&
      key !== undefined &&
      (key === 'Ref' || key.startsWith('Fn::') || key === 'Condition')
    ) {
      return this.#intrinsic(key, record[key], `${path}.${key}`);
    }
    const object: JsonObject = {};
    for (const [name, item] of Object.entries(record)) {
      const resolved = this.#resolve(item, `${path}.${name}`);
      if (resolved !== NO_VALUE) object[name] = resolved;
    }
    return object;
  }

  #intrinsic(name: string, args: unknown, path: string): Resolved {
    switch (name) {
      case 'Ref':
        return this.#ref(this.#string(args, path), path);
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = this.#getAttArgs(args, path);
        return this.#getAtt(logicalId, attribute, path);
      }
      case 'Fn::Join': {
        const [delimiter, list] = this.#array(args, 2, path);
        return this.#list(list, path)
          .map((item, i) => this.#scalar(item, `${path}[1][${i}]`))
          .join(this.#string(delimiter, path));
      }
      case 'Fn::Sub':
        return this.#sub(args, path);
      case 'Fn::Select': {
        const [index, list] = this.#array(args, 2, path);
        const items = this.#list(list, path);
        const i = Number(this.#resolve(index, path));
        const item = items[i];
        if (!Number.isInteger(i) || item === undefined)
          throw new Error(`${path}: index ${i} is out of range`);
        return item;
      }
      case 'Fn::Split': {
        const [delimiter, source] = this.#array(args, 2, path);
        return this.#string(source, path).split(this.#string(delimiter, path));
      }
      case 'Fn::FindInMap': {
        const [map, top, second] = this.#array(args, 3, path).map((arg) => this.#string(arg, path));
        const found = asRecord(asRecord(this.#mappings[map ?? ''])?.[top ?? ''])?.[second ?? ''];
        if (found === undefined) throw new Error(`${path}: no mapping ${map}.${top}.${second}`);
        return this.#resolve(found, path);
      }
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = this.#array(args, 3, path);
        return this.#condition(this.#string(condition, path), path)
          ? this.#resolve(whenTrue, `${path}[1]`)
          : this.#resolve(whenFalse, `${path}[2]`);
      }
      case 'Fn::Equals':
      case 'Fn::And':
      case 'Fn::Or':
      case 'Fn::Not':
      case 'Condition':
        return this.#evaluate({ [name]: args }, path);
      case 'Fn::Base64':
        return Buffer.from(this.#string(args, path)).toString('base64');
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((zone) => `${this.region}${zone}`);
      case 'Fn::ToJsonString': {
        const resolved = this.#resolve(args, path);
        return JSON.stringify(resolved === NO_VALUE ? null : resolved);
      }
      case 'Fn::Length':
        return this.#list(args, path).length;
      default:
        throw new Error(`${path}: ${name} is not resolved locally`);
    }
  }

  #ref(name: string, path: string): Resolved {
    switch (name) {
      case 'AWS::Region':
        return this.#env.region;
      case 'AWS::AccountId':
        return this.#env.accountId;
      case 'AWS::Partition':
        return this.#env.partition;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return this.#env.stackName;
      case 'AWS::StackId':
        return `arn:aws:cloudformation:${this.#env.region}:${this.#env.accountId}:stack/${this.#env.stackName}/00000000-0000-0000-0000-000000000000`;
      case 'AWS::NotificationARNs':
        return [];
      case 'AWS::NoValue':
        return NO_VALUE;
    }
    const parameter = this.#parameters[name];
    if (parameter !== undefined) return parameter;
    const declared = asRecord(this.#templateParameters[name]);
    if (declared) {
      const fallback = declared.Default;
      if (fallback === undefined) throw new Error(`${path}: parameter ${name} has no value and no Default`);
      return this.#resolve(fallback, path);
    }
    if (!this.#resources.has(name) && !this.#identities[name])
      throw new Error(`${path}: unknown Ref ${name}`);
    return this.identity(name).ref;
  }

  #getAtt(logicalId: string, attribute: string, path: string): string {
    if (!this.#resources.has(logicalId) && !this.#identities[logicalId]) {
      throw new Error(`${path}: unknown resource ${logicalId}`);
    }
    const value = this.identity(logicalId).attributes?.[attribute];
    if (value === undefined) throw new Error(`${path}: ${logicalId} has no attribute ${attribute} locally`);
    return value;
  }

  #getAttArgs(args: unknown, path: string): [string, string] {
    if (typeof args === 'string') {
      const dot = args.indexOf('.');
      if (dot > 0) return [args.slice(0, dot), args.slice(dot + 1)];
    } else if (Array.isArray(args) && args.length === 2) {
      return [this.#string(args[0], path), this.#string(args[1], path)];
    }
    throw new Error(`${path}: expected [logicalId, attribute]`);
  }

  #sub(args: unknown, path: string): string {
    const [template, variables] = Array.isArray(args)
      ? [args[0], asRecord(args[1]) ?? {}]
      : [args, {} as Record<string, unknown>];
    const text = this.#string(template, path);
    return text.replace(/\$\{([^}]*)\}/g, (_whole, inner: string) => {
      // `${!Literal}` writes `${Literal}`.
      if (inner.startsWith('!')) return `\${${inner.slice(1)}}`;
      if (inner in variables) return this.#scalar(this.#resolve(variables[inner], `${path}.${inner}`), path);
      if (inner.startsWith('AWS::') || !inner.includes('.'))
        return this.#scalar(this.#ref(inner, path), path);
      const dot = inner.indexOf('.');
      return this.#getAtt(inner.slice(0, dot), inner.slice(dot + 1), path);
    });
  }

  #condition(name: string, path: string): boolean {
    const known = this.#conditionValues.get(name);
    if (known !== undefined) return known;
    const definition = this.#conditions[name];
    if (definition === undefined) throw new Error(`${path}: unknown condition ${name}`);
    const value = this.#evaluate(definition, `Conditions.${name}`);
    this.#conditionValues.set(name, value);
    return value;
  }

  #evaluate(expression: unknown, path: string): boolean {
    const record = asRecord(expression);
    const [name] = record ? Object.keys(record) : [];
    const args = record && name !== undefined ? record[name] : undefined;
    switch (name) {
      case 'Condition':
        return this.#condition(this.#string(args, path), path);
      case 'Fn::Equals': {
        const [a, b] = this.#array(args, 2, path).map((arg) => JSON.stringify(this.#resolve(arg, path)));
        return a === b;
      }
      case 'Fn::And':
        return this.#array(args, 1, path).every((item) => this.#evaluate(item, path));
      case 'Fn::Or':
        return this.#array(args, 1, path).some((item) => this.#evaluate(item, path));
      case 'Fn::Not':
        return !this.#evaluate(this.#array(args, 1, path)[0], path);
      default:
        throw new Error(`${path}: not a condition`);
    }
  }

  #string(value: unknown, path: string): string {
    return this.#scalar(this.#resolve(value, path), path);
  }

  #scalar(value: Resolved, path: string): string {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw new Error(`${path}: expected a string`);
  }

  #array(value: unknown, length: number, path: string): unknown[] {
    if (!Array.isArray(value) || value.length < length)
      throw new Error(`${path}: expected ${length} arguments`);
    return value;
  }

  /** A list argument, resolved: a literal list or an intrinsic that yields one. */
  #list(value: unknown, path: string): JsonValue[] {
    const resolved = this.#resolve(value, path);
    if (!Array.isArray(resolved)) throw new Error(`${path}: expected a list`);
    return resolved;
  }
}

function isValue(value: Resolved): value is JsonValue {
  return value !== NO_VALUE;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Narrows parsed JSON to an object (what `JSON.parse` returns is JSON by construction). */
export function asJsonObject(value: unknown): JsonObject | undefined {
  return asRecord(value) as JsonObject | undefined;
}

function readResources(value: unknown): Map<string, TemplateResource> {
  const resources = new Map<string, TemplateResource>();
  for (const [logicalId, raw] of Object.entries(asRecord(value) ?? {})) {
    const record = asRecord(raw);
    if (!record || typeof record.Type !== 'string') throw new Error(`resource ${logicalId} has no Type`);
    resources.set(logicalId, {
      Type: record.Type,
      Properties: asRecord(record.Properties) ?? {},
      Metadata: asRecord(record.Metadata) ?? {},
    });
  }
  return resources;
}
