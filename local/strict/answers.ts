// Answers in AWS's own wire format (JSON 1.0 for DynamoDB and SQS), exactly as the AWS SDK v3 parses
// them: status code, `__type`, `message`, and for SQS the `x-amzn-query-error` header that its
// query-compatible JSON protocol reads the error code from. The SDK's retry logic classifies the error
// by that name (ProvisionedThroughputExceededException, RequestThrottled and ThrottlingException are
// throttling errors, retried with the longer backoff), so it behaves as it would against AWS.
import { randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const JSON_TYPE = 'application/x-amz-json-1.0';

/** A DynamoDB answer: AWS signs each body with its CRC32 (x-amz-crc32), as dynalite does. */
export const dynamoDbAnswer = (status: number, payload: unknown): Answer => {
  const body = Buffer.from(JSON.stringify(payload));
  return {
    status,
    headers: {
      'content-type': JSON_TYPE,
      'content-length': String(body.length),
      'x-amzn-requestid': randomUUID().replace(/-/g, '').toUpperCase(),
      'x-amz-crc32': String(crc32(body)),
    },
    body,
  };
};

export const dynamoDbError = (type: string, message: string, status = 400): Answer =>
  dynamoDbAnswer(status, { __type: `com.amazonaws.dynamodb.v20120810#${type}`, message });

/** What an on-demand table answers when a partition is over its throughput (AWS's wording). */
export const dynamoDbThrottled = (): Answer =>
  dynamoDbError(
    'ProvisionedThroughputExceededException',
    'Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table or index so please try again shortly. If exceptions persist, check if you have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html',
  );

export const dynamoDbValidation = (message: string): Answer => dynamoDbError('ValidationException', message);

export const sqsAnswer = (status: number, payload: unknown, headers: Record<string, string> = {}): Answer => {
  const body = Buffer.from(JSON.stringify(payload));
  return {
    status,
    headers: { 'content-type': JSON_TYPE, 'content-length': String(body.length), 'x-amzn-requestid': randomUUID(), ...headers },
    body,
  };
};

/**
 * SQS's two throttling answers: RequestThrottled (its own error, 403 as its model declares) and the
 * ThrottlingException every AWS service may answer (400).
 */
export const sqsThrottled = (kind: 'RequestThrottled' | 'ThrottlingException'): Answer =>
  kind === 'RequestThrottled'
    ? sqsAnswer(
        403,
        {
          __type: 'com.amazonaws.sqs#RequestThrottled',
          message:
            'The request was denied due to request throttling. Exceeds the permitted request rate for the queue or for the recipient of the request. Ensure that the request rate is within the Amazon SQS limits for sending messages.',
        },
        { 'x-amzn-query-error': 'RequestThrottled;Sender' },
      )
    : sqsAnswer(400, { __type: 'ThrottlingException', message: 'Rate exceeded' }, { 'x-amzn-query-error': 'ThrottlingException;Sender' });
