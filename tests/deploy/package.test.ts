// `serverless package` works offline with no AWS credentials, and the CloudFormation it produces is
// what a production deployment needs.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXPIRES, INDEX, PK } from '../../lib/table/schema.ts';
import { projectRoot } from '../support/processes.ts';

jest.setTimeout(300_000);

type Resource = { Type: string; Properties: any; Metadata?: any };
let resources: Record<string, Resource>;
const outDir = mkdtempSync(path.join(os.tmpdir(), 'log-aggregator-package-'));
const template = path.join(outDir, 'cloudformation-template-update-stack.json');

// cfn-lint (Python, `pip install cfn-lint`) is installed on these machines; where it is not, its check
// is skipped with a warning. CI sets REQUIRE_CFN_LINT=1 (.ci/run), so there it runs or fails.
const cfnLintVersion = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
const haveCfnLint = cfnLintVersion.status === 0;
if (!haveCfnLint && !process.env.REQUIRE_CFN_LINT) {
  console.warn('cfn-lint is not installed (pip install cfn-lint==1.51.0): the lint of the packaged template is skipped');
}

/** File names and sizes in a zip, from its central directory (no zip library needed for that). */
const zipEntries = (file: string): Array<{ name: string; size: number }> => {
  const zip = readFileSync(file);
  const entries: Array<{ name: string; size: number }> = [];
  for (let at = zip.indexOf(0x02014b50 & 0xff); at >= 0 && at < zip.length - 46; at = zip.indexOf(0x50, at + 1)) {
    if (zip.readUInt32LE(at) !== 0x02014b50) continue;
    const nameLength = zip.readUInt16LE(at + 28);
    entries.push({ name: zip.toString('utf8', at + 46, at + 46 + nameLength), size: zip.readUInt32LE(at + 24) });
  }
  return entries;
};

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
  resources = JSON.parse(readFileSync(template, 'utf8')).Resources;
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
  // An event's index entries are keys only too: with ALL, each would be a second and third copy of
  // the event, payload and all (issue #23: 8 write units per 1 KB event instead of 3).
  const projection = (name: string) => table.Properties.GlobalSecondaryIndexes.find((index: any) => index.IndexName === name).Projection;
  for (const index of [INDEX.topicNames, INDEX.topicTime, INDEX.recent, INDEX.arrival]) expect({ index: index.name, ...projection(index.name) }).toEqual({ index: index.name, ProjectionType: 'KEYS_ONLY' });
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
    publish: ['logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
    otlp: ['logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
    loki: ['logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
    elastic: ['logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
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
    // The message records a receipt names.
    receipts: ['dynamodb:BatchGetItem', 'logs:CreateLogStream', 'logs:PutLogEvents'],
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
    // The web console serves static files embedded in its bundle: nothing but its own logs.
    console: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    // The contract and the API page, embedded in its bundle likewise.
    openapi: ['logs:CreateLogStream', 'logs:PutLogEvents'],
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
    'GET /',
    'GET /_cat/health',
    'GET /api-docs',
    'GET /api-docs/{file}',
    'GET /console/{file}',
    'GET /events',
    'GET /events/tail',
    'GET /events/{topic}/{event_id}',
    'GET /health',
    'GET /metrics',
    'GET /openapi.json',
    'GET /receipts/{receipt}',
    'GET /stats',
    'GET /stats/series',
    'GET /topics',
    'GET /topics/{topic}',
    'POST /_bulk',
    'POST /admin/redrive',
    'POST /loki/api/v1/push',
    'POST /publish',
    'POST /v1/logs',
    'POST /{index}/_bulk',
  ]);
});

it('hands binary bodies to the ingest functions: an HTTP API with payload format 2.0, which base64-encodes them', () => {
  // A REST API would need binaryMediaTypes for protobuf, snappy and gzip bodies to arrive intact; an HTTP
  // API passes any body through (isBase64Encoded), and the functions decode it (functions/http/api.ts).
  expect(ofType('AWS::ApiGateway::RestApi')).toEqual([]);
  const [[, api]] = ofType('AWS::ApiGatewayV2::Api') as [[string, Resource]];
  expect(api.Properties.ProtocolType).toBe('HTTP');
  const integrations = new Map(ofType('AWS::ApiGatewayV2::Integration').map(([id, integration]) => [id, integration.Properties]));
  for (const key of ['POST /v1/logs', 'POST /loki/api/v1/push', 'POST /_bulk', 'POST /{index}/_bulk']) {
    const [, route] = ofType('AWS::ApiGatewayV2::Route').find(([, candidate]) => candidate.Properties.RouteKey === key)!;
    const integrationId = (route.Properties.Target['Fn::Join'][1] as unknown[]).find((part) => typeof part === 'object') as { Ref: string };
    expect({ key, ...integrations.get(integrationId.Ref) }).toMatchObject({ key, IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
  }
});

it('passes every key setting to the functions (reads are open on AWS when READ_API_KEYS is not there)', () => {
  for (const [, fn] of ofType('AWS::Lambda::Function')) {
    expect(Object.keys(fn.Properties.Environment.Variables)).toEqual(expect.arrayContaining(['PUBLISH_API_KEYS', 'READ_API_KEYS', 'ADMIN_API_KEYS']));
  }
});

it('passes both queue retentions to the functions, from which they derive the dedup horizon', () => {
  const environment = functionResource('process').Properties.Environment.Variables;
  expect(Number(environment.QUEUE_RETENTION_SECONDS)).toBe(resources.EventsQueue!.Properties.MessageRetentionPeriod);
  expect(Number(environment.DLQ_RETENTION_SECONDS)).toBe(resources.EventsDeadLetterQueue!.Properties.MessageRetentionPeriod);
});

it('keeps the data when the stack is removed or the table replaced, with point-in-time recovery', () => {
  for (const id of ['EventsTable', 'EventsQueue', 'EventsDeadLetterQueue']) {
    expect(resources[id]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  }
  expect(resources.EventsTable!.Properties).toMatchObject({
    DeletionProtectionEnabled: true,
    PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
  });
});

it('bounds the processor with MaximumConcurrency and throttles the HTTP API, with access logs', () => {
  const [[, mapping]] = ofType('AWS::Lambda::EventSourceMapping') as [[string, Resource]];
  expect(mapping.Properties.ScalingConfig.MaximumConcurrency).toBeGreaterThanOrEqual(2);
  const [[, stage]] = ofType('AWS::ApiGatewayV2::Stage') as [[string, Resource]];
  expect(stage.Properties.DefaultRouteSettings).toEqual({ ThrottlingBurstLimit: expect.any(Number), ThrottlingRateLimit: expect.any(Number) });
  expect(stage.Properties.AccessLogSettings).toMatchObject({ DestinationArn: expect.anything() });
});

it('alarms on dead letters, an aging backlog, processor errors and throttles, and table throttling, to one SNS topic', () => {
  const alarms = ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
  const watched = alarms.map((alarm) => `${alarm.Namespace} ${alarm.MetricName}`).sort();
  expect(watched).toEqual([
    'AWS/DynamoDB WriteThrottleEvents',
    'AWS/Lambda Errors',
    'AWS/Lambda Throttles',
    'AWS/SQS ApproximateAgeOfOldestMessage',
    'AWS/SQS ApproximateNumberOfMessagesVisible',
  ]);
  const [[topicId]] = ofType('AWS::SNS::Topic') as [[string, Resource]];
  for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
  // The backlog alarm fires well before queued messages expire.
  const age = alarms.find((alarm) => alarm.MetricName === 'ApproximateAgeOfOldestMessage')!;
  expect(age.Threshold).toBeLessThan(resources.EventsQueue!.Properties.MessageRetentionPeriod / 2);
});

it('packages each function on its own, minified, without source maps', () => {
  const zips = readdirSync(outDir).filter((file) => file.endsWith('.zip'));
  expect(zips.length).toBe(ofType('AWS::Lambda::Function').length);
  for (const zip of zips) {
    const entries = zipEntries(path.join(outDir, zip));
    expect(entries.filter((entry) => entry.name.endsWith('.map'))).toEqual([]);
    const code = entries.filter((entry) => entry.name.endsWith('.js'));
    expect(code.length).toBeGreaterThan(0);
    // The old single artifact was 12 MB; a minified function bundle is a few hundred KB to ~2 MB.
    expect(code.reduce((sum, entry) => sum + entry.size, 0)).toBeLessThan(3 * 1024 * 1024);
  }
});

(haveCfnLint || process.env.REQUIRE_CFN_LINT ? it : it.skip)('passes cfn-lint with no error, and no warning the template does not explain', () => {
  if (!haveCfnLint) throw new Error('cfn-lint is required here (REQUIRE_CFN_LINT is set) but cannot be run: pip install cfn-lint==1.51.0');
  // Exit status: 0 clean, 2 errors, 4 warnings (bits); the findings themselves come as JSON.
  const lint = spawnSync('cfn-lint', ['-r', 'us-east-1', '-f', 'json', '-t', template], { encoding: 'utf8' });
  if (lint.stdout.trim() === '') throw new Error(`cfn-lint ${cfnLintVersion.stdout.trim()} failed (status ${lint.status}): ${lint.stderr}`);
  const findings = JSON.parse(lint.stdout) as Array<{ Level: string; Message: string; Rule: { Id: string }; Location: { Path: unknown[] } }>;
  // Warnings the template explains are suppressed in it (Metadata cfn-lint ignore_checks), so none is left.
  expect(findings.map((finding) => `${finding.Level} ${finding.Rule.Id} at ${finding.Location.Path.join('/')}: ${finding.Message}`)).toEqual([]);
  expect(lint.status).toBe(0);
  // Each suppression says why, beside it.
  for (const [id, resource] of Object.entries(resources)) {
    const ignored: string[] = resource.Metadata?.['cfn-lint']?.config?.ignore_checks ?? [];
    for (const check of ignored) expect({ id, check, reason: resource.Metadata?.['cfn-lint-reasons']?.[check] }).toEqual({ id, check, reason: expect.stringMatching(/\S.{19,}/) });
  }
});
