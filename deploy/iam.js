// Why this file: every function gets its own IAM role with only the calls it makes (least privilege).
// Written out in serverless.yml that was nine near-identical role resources plus nine copies of the
// log statement; here it is one table (`permissions`) and one generator. serverless.yml merges the
// generated roles into `resources` with `${file(./deploy/iam.js):roles}`, so `serverless print`,
// `package` and `deploy` all see them as ordinary CloudFormation resources.
//
// To change what a function may do, edit its entry in `permissions`. A function in serverless.yml
// needs an entry here and `role: <Name>Role` (e.g. `role: FoldRole` for `fold`); `roles` fails
// loudly when the two disagree, so a function can never silently fall back to a shared role.
'use strict';

const arn = (logicalId) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });

/** The resources a statement may name, as CloudFormation references to serverless.yml `resources`. */
const targets = {
  table: arn('EventsTable'),
  tableIndexes: { 'Fn::Join': ['', [arn('EventsTable'), '/index/*']] },
  queue: arn('EventsQueue'),
  dlq: arn('EventsDeadLetterQueue'),
};

/**
 * Function name -> what it calls, on which of `targets`. Writing to the function's own log group is
 * added to every role below.
 */
const permissions = {
  // Publishing only enqueues (counting happens when messages are processed), after a look at the
  // queue's depth (backpressure: 429 when the backlog is too deep).
  publish: [{ actions: ['sqs:GetQueueUrl', 'sqs:GetQueueAttributes', 'sqs:SendMessage'], resources: ['queue'] }],
  // The shipper protocols publish exactly as `publish` does.
  otlp: [{ actions: ['sqs:GetQueueUrl', 'sqs:GetQueueAttributes', 'sqs:SendMessage'], resources: ['queue'] }],
  loki: [{ actions: ['sqs:GetQueueUrl', 'sqs:GetQueueAttributes', 'sqs:SendMessage'], resources: ['queue'] }],
  elastic: [{ actions: ['sqs:GetQueueUrl', 'sqs:GetQueueAttributes', 'sqs:SendMessage'], resources: ['queue'] }],
  process: [
    // The event source mapping reads and deletes with the function's role.
    { actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], resources: ['queue'] },
    // Events and message records (PutItem, GetItem, BatchGetItem), the fold (UpdateItem, BatchWriteItem).
    {
      actions: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'],
      resources: ['table'],
    },
  ],
  stats: [
    // Total shards and the minute history (BatchGetItem), top topics (Query on the volume index).
    { actions: ['dynamodb:BatchGetItem', 'dynamodb:Query'], resources: ['table', 'tableIndexes'] },
    { actions: ['sqs:GetQueueUrl', 'sqs:GetQueueAttributes'], resources: ['queue', 'dlq'] },
  ],
  events: [{ actions: ['dynamodb:Query', 'dynamodb:GetItem'], resources: ['table', 'tableIndexes'] }],
  admin: [
    { actions: ['sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'sqs:DeleteMessage'], resources: ['dlq'] },
    { actions: ['sqs:GetQueueUrl', 'sqs:SendMessage'], resources: ['queue'] },
    { actions: ['dynamodb:Query', 'dynamodb:BatchWriteItem'], resources: ['table', 'tableIndexes'] },
  ],
  metrics: [
    { actions: ['dynamodb:BatchGetItem', 'dynamodb:Query'], resources: ['table', 'tableIndexes'] },
    { actions: ['sqs:GetQueueUrl', 'sqs:GetQueueAttributes'], resources: ['queue', 'dlq'] },
  ],
  // The message records a receipt names (one BatchGetItem per look).
  receipts: [{ actions: ['dynamodb:BatchGetItem'], resources: ['table'] }],
  topics: [{ actions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'], resources: ['table', 'tableIndexes'] }],
  health: [
    { actions: ['dynamodb:GetItem'], resources: ['table'] },
    // The queue answers, and the DLQ's depth says "degraded".
    { actions: ['sqs:GetQueueUrl', 'sqs:GetQueueAttributes'], resources: ['queue', 'dlq'] },
  ],
  // The web console only serves its own static files (embedded in its bundle): no AWS calls.
  console: [],
  // The contract and the API page: files embedded in its bundle, likewise no AWS calls.
  openapi: [],
};

/** The role's logical id, as functions name it in serverless.yml: `process` -> `ProcessRole`. */
const roleId = (fn) => `${fn[0].toUpperCase()}${fn.slice(1).replace(/-/g, 'Dash').replace(/_/g, 'Underscore')}Role`;

const lambdaTrust = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

// The framework creates each function's log group; the function may only write to its own.
const writeOwnLogs = (functionName) => ({
  Effect: 'Allow',
  Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  Resource: {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':logs:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        `:log-group:/aws/lambda/${functionName}:*`,
      ],
    ],
  },
});

const statement = (fn, { actions, resources }) => {
  const unknown = resources.filter((name) => !Object.hasOwn(targets, name));
  if (unknown.length > 0) {
    throw new Error(`deploy/iam.js: ${fn} names ${unknown.join(', ')}; known resources: ${Object.keys(targets).join(', ')}`);
  }
  const resolved = resources.map((name) => targets[name]);
  return { Effect: 'Allow', Action: actions, Resource: resolved.length === 1 ? resolved[0] : resolved };
};

/** `{ [roleId]: AWS::IAM::Role }` for every function in `permissions`. */
const buildRoles = ({ service, stage }) =>
  Object.fromEntries(
    Object.entries(permissions).map(([fn, statements]) => [
      roleId(fn),
      {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: lambdaTrust,
          Policies: [
            {
              PolicyName: fn,
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [writeOwnLogs(`${service}-${stage}-${fn}`), ...statements.map((s) => statement(fn, s))],
              },
            },
          ],
        },
      },
    ]),
  );

/** Every function has an entry here and names its generated role; nothing here lacks a function. */
const checkFunctions = (functions) => {
  const problems = [];
  for (const [fn, definition] of Object.entries(functions ?? {})) {
    if (!Object.hasOwn(permissions, fn)) problems.push(`function ${fn} has no entry in deploy/iam.js permissions`);
    else if (definition?.role !== roleId(fn)) problems.push(`function ${fn} must say \`role: ${roleId(fn)}\``);
  }
  for (const fn of Object.keys(permissions)) {
    if (!Object.hasOwn(functions ?? {}, fn)) problems.push(`deploy/iam.js permissions has ${fn}, which serverless.yml does not define`);
  }
  if (problems.length > 0) throw new Error(`IAM roles and serverless.yml functions disagree:\n  ${problems.join('\n  ')}`);
};

module.exports = {
  permissions,
  roleId,
  buildRoles,
  // `${file(./deploy/iam.js):roles}`: the framework calls this while it resolves serverless.yml.
  roles: async ({ resolveVariable }) => {
    checkFunctions(await resolveVariable('self:functions'));
    return buildRoles({ service: await resolveVariable('self:service'), stage: await resolveVariable('sls:stage') });
  },
};
