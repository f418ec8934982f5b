// Docker Compose, checked where no Docker engine runs: the file validates with docker-compose, it has
// the shape docs/docker-compose.md promises, and its LocalStack init hook creates exactly what serverless.yml
// declares (run here against the embedded emulators, which speak the same APIs).
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { parse } from 'yaml';
import { loadServiceConfig } from '../../local/service-config.ts';
import { projectRoot } from '../support/processes.ts';

jest.setTimeout(120_000);

const compose = parse(readFileSync(path.join(projectRoot, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, any>;
};

const dockerCompose = (): string[] | undefined => {
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0) return ['docker-compose'];
  if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0) return ['docker', 'compose'];
  return undefined;
};

describe('docker-compose.yml', () => {
  const command = dockerCompose();
  const validate = command || process.env.REQUIRE_DOCKER_COMPOSE ? it : it.skip;
  if (!command && !process.env.REQUIRE_DOCKER_COMPOSE) {
    console.warn('docker-compose is not installed (apt-get install docker-compose): the `config -q` check is skipped');
  }

  validate('validates with `docker-compose config -q`', () => {
    if (!command) throw new Error('docker-compose is required here (REQUIRE_DOCKER_COMPOSE is set): apt-get install docker-compose');
    const [bin, ...args] = command;
    const result = spawnSync(bin!, [...args, '-f', 'docker-compose.yml', 'config', '-q'], { cwd: projectRoot, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('pins LocalStack, publishes its port on 127.0.0.1 only, and checks its health', () => {
    const localstack = compose.services.localstack;
    expect(localstack.image).toBe('localstack/localstack:4.14.0');
    expect(localstack.ports).toEqual(['127.0.0.1:4566:4566']);
    expect(localstack.environment.SERVICES).toBe('sqs,dynamodb');
    expect(localstack.healthcheck.test.join(' ')).toMatch(/_localstack\/health/);
  });

  it('starts the app only once LocalStack is healthy and the init hook has created the resources', () => {
    const { app, provision } = compose.services;
    expect(provision.command).toEqual(['sh', 'localstack/provision.sh']);
    expect(provision.depends_on).toEqual({ localstack: { condition: 'service_healthy' } });
    expect(app.depends_on).toEqual({
      localstack: { condition: 'service_healthy' },
      provision: { condition: 'service_completed_successfully' },
    });
    expect(app.ports).toEqual(['127.0.0.1:3000:3000']);
    expect(app.environment.CLOUD_ENDPOINT).toBe('http://localstack:4566');
  });

  it('has a publisher behind the demo profile that loads the app once it is healthy', () => {
    const publisher = compose.services.publisher;
    expect(publisher.profiles).toEqual(['demo']);
    expect(publisher.depends_on).toEqual({ app: { condition: 'service_healthy' } });
    expect(publisher.command.join(' ')).toMatch(/^npm run publisher -- --url http:\/\/app:3000 --events 20000 --dup-rate 0\.3/);
  });

  it('runs the app as a non-root user on a Node 22 image', () => {
    const dockerfile = readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:22[-.]/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile.indexOf('USER node')).toBeLessThan(dockerfile.indexOf('RUN npm install'));
  });

  it('has the dependency patches in place when npm install runs its postinstall (patch-package)', () => {
    const dockerfile = readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8');
    const copied = dockerfile.indexOf('COPY --chown=node:node patches ./patches');
    expect(copied).toBeGreaterThan(-1);
    expect(copied).toBeLessThan(dockerfile.indexOf('RUN npm install'));
  });
});

describe('the LocalStack init hook', () => {
  it('creates exactly the table and queues that serverless.yml declares', async () => {
    const stage = 'compose-check';
    execFileSync('sh', ['localstack/provision.sh'], {
      cwd: projectRoot,
      env: { ...process.env, STAGE: stage },
      stdio: 'pipe',
    });
    const { resources } = await loadServiceConfig({ stage });
    const client = { endpoint: process.env.AWS_ENDPOINT_URL!, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
    const dynamo = new DynamoDBClient(client);
    const sqs = new SQSClient({ ...client, useQueueUrlAsEndpoint: false });

    const tables = Object.values(resources).filter((resource) => resource.Type === 'AWS::DynamoDB::Table');
    expect(tables).toHaveLength(1);
    const declared = tables[0]!.Properties as any;
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: declared.TableName }));
    expect(Table!.KeySchema).toEqual(declared.KeySchema);
    expect(new Set(Table!.AttributeDefinitions!.map((a) => JSON.stringify(a)))).toEqual(
      new Set(declared.AttributeDefinitions.map((a: unknown) => JSON.stringify(a))),
    );
    expect(Table!.GlobalSecondaryIndexes!.map((index) => ({ IndexName: index.IndexName, KeySchema: index.KeySchema, Projection: index.Projection }))).toEqual(
      declared.GlobalSecondaryIndexes.map((index: any) => ({ IndexName: index.IndexName, KeySchema: index.KeySchema, Projection: index.Projection })),
    );

    const queues = Object.entries(resources).filter(([, resource]) => resource.Type === 'AWS::SQS::Queue');
    expect(queues).toHaveLength(2);
    for (const [, queue] of queues) {
      const props = queue.Properties as any;
      const url = (await sqs.send(new GetQueueUrlCommand({ QueueName: props.QueueName }))).QueueUrl!;
      const { Attributes = {} } = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] }))) as { Attributes?: Record<string, string> };
      for (const key of ['VisibilityTimeout', 'MessageRetentionPeriod', 'ReceiveMessageWaitTimeSeconds']) {
        if (props[key] !== undefined) expect(Attributes[key]).toBe(String(props[key]));
      }
      if (props.RedrivePolicy) {
        const policy = JSON.parse(Attributes.RedrivePolicy!) as { deadLetterTargetArn: string; maxReceiveCount: number };
        expect(Number(policy.maxReceiveCount)).toBe(props.RedrivePolicy.maxReceiveCount);
        const target = resources[props.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0]]!.Properties.QueueName as string;
        expect(policy.deadLetterTargetArn).toMatch(new RegExp(`:${target}$`));
      }
    }
    dynamo.destroy();
    sqs.destroy();
  });
});
