// `serverless package` works offline with no AWS credentials, and the CloudFormation it produces is
// what a production deployment needs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXPIRES, INDEX, PK } from '../../lib/table/schema.ts';
import { projectRoot } from '../support/processes.ts';

jest.setTimeout(300_000);

type Resource = { Type: string; Properties: any };
let resources: Record<string, Resource>;
const outDir = mkdtempSync(path.join(os.tmpdir(), 'log-aggregator-package-'));

const ofType = (type: string): Array<[string, Resource]> => Object.entries(resources).filter(([, r]) => r.Type === type);
const functionResource = (name: string): Resource =>
  ofType('AWS::Lambda::Function').find(([, r]) => r.Properties.FunctionName === `log-aggregator-prod-${name}`)![1];

beforeAll(() => {
  // No credentials and no endpoint: packaging must not need AWS.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')));
  execFileSync(process.execPath, ['node_modules/serverless/bin/serverless.js', 'package', '--stage', 'prod', '--package', outDir], {
    cwd: projectRoot,
    env: { ...env, SLS_TELEMETRY_DISABLED: '1', HOME: outDir },
    stdio: 'pipe',
  });
  resources = JSON.parse(readFileSync(path.join(outDir, 'cloudformation-template-update-stack.json'), 'utf8')).Resources;
});

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

it('defines the table: on-demand, TTL, and exactly the indexes lib/table/schema.ts queries', () => {
  const [[, table]] = ofType('AWS::DynamoDB::Table') as [[string, Resource]];
  expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
  expect(table.Properties.TimeToLiveSpecification).toEqual({ AttributeName: EXPIRES, Enabled: true });
  expect(table.Properties.KeySchema).toEqual([{ AttributeName: PK, KeyType: 'HASH' }]);
  const declared = Object.fromEntries(
    table.Properties.GlobalSecondaryIndexes.map((index: any) => [
      index.IndexName,
      { partitionKey: index.KeySchema[0].AttributeName, sortKey: index.KeySchema[1].AttributeName },
    ]),
  );
  expect(declared).toEqual(Object.fromEntries(Object.values(INDEX).map(({ name, partitionKey, sortKey }) => [name, { partitionKey, sortKey }])));
  // The counter updates of a fold never write to the topic-name index: keys only, keys never change.
  expect(table.Properties.GlobalSecondaryIndexes.find((index: any) => index.IndexName === INDEX.topicNames.name).Projection).toEqual({
    ProjectionType: 'KEYS_ONLY',
  });
});

it('defines the queue and the DLQ with a redrive policy', () => {
  const queue = resources.EventsQueue!.Properties;
  expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] }, maxReceiveCount: 5 });
  expect(resources.EventsDeadLetterQueue!.Type).toBe('AWS::SQS::Queue');
  expect(resources.EventsDeadLetterQueue!.Properties.MessageRetentionPeriod).toBeGreaterThanOrEqual(queue.MessageRetentionPeriod);
});

it('maps the queue to the processor with ReportBatchItemFailures, batch size and batching window', () => {
  const [[, mapping]] = ofType('AWS::Lambda::EventSourceMapping') as [[string, Resource]];
  expect(mapping.Properties).toMatchObject({
    BatchSize: 10,
    MaximumBatchingWindowInSeconds: 1,
    FunctionResponseTypes: ['ReportBatchItemFailures'],
    EventSourceArn: { 'Fn::GetAtt': ['EventsQueue', 'Arn'] },
  });
});

it('gives the queue a visibility timeout of at least six times the processor timeout', () => {
  expect(resources.EventsQueue!.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * functionResource('process').Properties.Timeout);
});

it('runs every function on nodejs22.x', () => {
  for (const [, fn] of ofType('AWS::Lambda::Function')) expect(fn.Properties.Runtime).toBe('nodejs22.x');
});

it('grants each function only the actions it needs, on its own resources, never *', () => {
  const expected: Record<string, string[]> = {
    publish: ['logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
    process: [
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
    ],
    stats: ['dynamodb:BatchGetItem', 'dynamodb:Query', 'logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
    metrics: ['dynamodb:BatchGetItem', 'dynamodb:Query', 'logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
    topics: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query', 'logs:CreateLogStream', 'logs:PutLogEvents'],
    admin: [
      'dynamodb:BatchWriteItem',
      'dynamodb:Query',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'sqs:DeleteMessage',
      'sqs:GetQueueUrl',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
      'sqs:SendMessage',
    ],
    events: ['dynamodb:GetItem', 'dynamodb:Query', 'logs:CreateLogStream', 'logs:PutLogEvents'],
    health: ['dynamodb:GetItem', 'logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
  };
  expect(resources.IamRoleLambdaExecution).toBeUndefined();
  for (const [name, actions] of Object.entries(expected)) {
    const roleRef = functionResource(name).Properties.Role;
    const roleId = roleRef['Fn::GetAtt'][0] as string;
    const statements = resources[roleId]!.Properties.Policies.flatMap((policy: any) => policy.PolicyDocument.Statement);
    const granted = statements.flatMap((statement: any) => [statement.Action].flat()).sort();
    expect({ name, actions: granted }).toEqual({ name, actions });
    for (const statement of statements) {
      expect(JSON.stringify(statement.Action)).not.toMatch(/\*/);
      expect(statement.Resource).not.toBe('*');
      expect(JSON.stringify(statement.Resource)).not.toMatch(/^"\*"$/);
    }
  }
});

it('routes the HTTP API', () => {
  const routes = ofType('AWS::ApiGatewayV2::Route').map(([, route]) => route.Properties.RouteKey).sort();
  expect(routes).toEqual([
    'DELETE /admin/topics/{topic}',
    'GET /events',
    'GET /events/tail',
    'GET /events/{topic}/{event_id}',
    'GET /health',
    'GET /metrics',
    'GET /stats',
    'GET /stats/series',
    'GET /topics',
    'GET /topics/{topic}',
    'POST /admin/redrive',
    'POST /publish',
  ]);
});

it('passes both queue retentions to the functions, from which they derive the dedup horizon', () => {
  const environment = functionResource('process').Properties.Environment.Variables;
  expect(Number(environment.QUEUE_RETENTION_SECONDS)).toBe(resources.EventsQueue!.Properties.MessageRetentionPeriod);
  expect(Number(environment.DLQ_RETENTION_SECONDS)).toBe(resources.EventsDeadLetterQueue!.Properties.MessageRetentionPeriod);
});
