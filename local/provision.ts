// Creates the table and queues declared in serverless.yml `resources` on a local endpoint (the
// embedded cloud or LocalStack). It understands exactly the properties this project uses and refuses
// anything else, so the CloudFormation definition and the local provisioning cannot drift apart.
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueNameExists,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { CfnResource } from './service-config.ts';

const QUEUE_ATTRIBUTES = new Set([
  'QueueName',
  'VisibilityTimeout',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'MaximumMessageSize',
  'DelaySeconds',
  'RedrivePolicy',
]);
const TABLE_PROPERTIES = new Set([
  'TableName',
  'BillingMode',
  'AttributeDefinitions',
  'KeySchema',
  'GlobalSecondaryIndexes',
  'TimeToLiveSpecification',
  // Protections of the AWS table; they mean nothing to an emulator and are left out locally.
  'PointInTimeRecoverySpecification',
  'DeletionProtectionEnabled',
]);

/** Resource types that exist on AWS but mean nothing to the emulators. */
const NOT_PROVISIONED_LOCALLY = new Set(['AWS::IAM::Role', 'AWS::SNS::Topic', 'AWS::SNS::Subscription', 'AWS::CloudWatch::Alarm']);

export interface ProvisionResult {
  tables: string[];
  queues: Record<string, { url: string; arn: string }>;
}

const unsupported = (logicalId: string, props: Record<string, unknown>, allowed: Set<string>): void => {
  const extra = Object.keys(props).filter((key) => !allowed.has(key));
  if (extra.length > 0) {
    throw new Error(
      `serverless.yml resource ${logicalId} uses ${extra.join(', ')}, which local/provision.ts does not ` +
        'provision locally yet; teach it those properties before relying on them.',
    );
  }
};

/** Resolves `{ "Fn::GetAtt": [Queue, "Arn"] }` against queues created earlier in this run. */
const resolveArn = (value: unknown, queues: ProvisionResult['queues']): string | undefined => {
  if (typeof value === 'string') return value;
  const getAtt = (value as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
  if (getAtt && getAtt[1] === 'Arn') return queues[getAtt[0]]?.arn;
  return undefined;
};

const queueDependencies = (resource: CfnResource): string[] => {
  const target = (resource.Properties.RedrivePolicy as { deadLetterTargetArn?: unknown } | undefined)
    ?.deadLetterTargetArn as { 'Fn::GetAtt'?: [string, string] } | undefined;
  return target?.['Fn::GetAtt'] ? [target['Fn::GetAtt'][0]] : [];
};

const provisionQueue = async (
  sqs: SQSClient,
  logicalId: string,
  resource: CfnResource,
  queues: ProvisionResult['queues'],
): Promise<void> => {
  const props = resource.Properties;
  unsupported(logicalId, props, QUEUE_ATTRIBUTES);
  const attributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(props)) {
    if (key === 'QueueName') continue;
    if (key === 'RedrivePolicy') {
      const policy = value as { deadLetterTargetArn: unknown; maxReceiveCount: number };
      const arn = resolveArn(policy.deadLetterTargetArn, queues);
      if (!arn) throw new Error(`${logicalId}: cannot resolve the redrive target ${JSON.stringify(policy.deadLetterTargetArn)}`);
      attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: Number(policy.maxReceiveCount) });
    } else {
      attributes[key] = String(value);
    }
  }
  const QueueName = String(props.QueueName);
  let url: string;
  try {
    url = (await sqs.send(new CreateQueueCommand({ QueueName, Attributes: attributes }))).QueueUrl!;
  } catch (error) {
    // An existing queue with other attributes: bring it in line with the definition.
    if (!(error instanceof QueueNameExists) && (error as Error).name !== 'QueueAlreadyExists') throw error;
    url = (await sqs.send(new GetQueueUrlCommand({ QueueName }))).QueueUrl!;
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
  }
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes
    ?.QueueArn;
  if (!arn) throw new Error(`${logicalId}: the queue ${QueueName} has no QueueArn`);
  queues[logicalId] = { url, arn };
};

/**
 * A table created by an earlier version may lack indexes added since. The embedded DynamoDB (dynalite)
 * cannot add an index to an existing table, so say what to do rather than fail later on a query.
 */
const requireIndexes = async (dynamo: DynamoDBClient, input: CreateTableCommandInput): Promise<void> => {
  const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: input.TableName }));
  const present = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  const missing = (input.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName).filter((name) => !present.has(name));
  if (missing.length > 0) {
    throw new Error(
      `the table ${input.TableName} exists but lacks the index(es) ${missing.join(', ')} that this version needs ` +
        '(it was written by an earlier version). Upgrade it in place, exactly, with `npm run migrate` (the stack ' +
        'stopped; docs/deploy.md), or start this version with a new DATA_DIR.',
    );
  }
};

const provisionTable = async (dynamo: DynamoDBClient, logicalId: string, resource: CfnResource): Promise<string> => {
  const props = resource.Properties;
  unsupported(logicalId, props, TABLE_PROPERTIES);
  const input = {
    TableName: props.TableName,
    BillingMode: props.BillingMode,
    // PointInTimeRecoverySpecification and DeletionProtectionEnabled: AWS-only, not passed on.
    AttributeDefinitions: props.AttributeDefinitions,
    KeySchema: props.KeySchema,
    GlobalSecondaryIndexes: props.GlobalSecondaryIndexes,
  } as CreateTableCommandInput;
  try {
    await dynamo.send(new CreateTableCommand(input));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    await requireIndexes(dynamo, input);
  }
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: input.TableName }));
    if (Table?.TableStatus === 'ACTIVE') break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const ttl = props.TimeToLiveSpecification as { AttributeName: string; Enabled: boolean } | undefined;
  if (ttl?.Enabled) {
    try {
      await dynamo.send(new UpdateTimeToLiveCommand({ TableName: input.TableName, TimeToLiveSpecification: ttl }));
    } catch (error) {
      // dynalite has no TTL API; reads filter expired items themselves, so the product still behaves.
      const name = (error as Error).name;
      if (name !== 'UnknownOperationException' && name !== 'ValidationException') throw error;
    }
  }
  return String(input.TableName);
};

export const provisionResources = async (options: {
  endpoint: string;
  region: string;
  resources: Record<string, CfnResource>;
}): Promise<ProvisionResult> => {
  const clientConfig = {
    endpoint: options.endpoint,
    region: options.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  const dynamo = new DynamoDBClient(clientConfig);
  const sqs = new SQSClient({ ...clientConfig, useQueueUrlAsEndpoint: false });
  const result: ProvisionResult = { tables: [], queues: {} };
  try {
    const entries = Object.entries(options.resources);
    for (const [logicalId, resource] of entries) {
      if (resource.Type === 'AWS::DynamoDB::Table') result.tables.push(await provisionTable(dynamo, logicalId, resource));
      else if (resource.Type !== 'AWS::SQS::Queue' && !NOT_PROVISIONED_LOCALLY.has(resource.Type)) {
        throw new Error(`serverless.yml resource ${logicalId} has type ${resource.Type}, which local provisioning does not support`);
      }
    }
    // Queues in dependency order: a dead-letter queue before the queue that redrives into it.
    const pending = new Map(entries.filter(([, resource]) => resource.Type === 'AWS::SQS::Queue'));
    while (pending.size > 0) {
      const ready = [...pending].filter(([, resource]) => queueDependencies(resource).every((dep) => result.queues[dep]));
      if (ready.length === 0) throw new Error(`circular or missing queue references among ${[...pending.keys()].join(', ')}`);
      for (const [logicalId, resource] of ready) {
        await provisionQueue(sqs, logicalId, resource, result.queues);
        pending.delete(logicalId);
      }
    }
  } finally {
    dynamo.destroy();
    sqs.destroy();
  }
  return result;
};
