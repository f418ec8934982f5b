// What an SQS call is billed as: one request per call, and one more per started 64 KB chunk of its
// payload beyond the first (AWS: "each 64 KB chunk of a payload is billed as 1 request"; a call with a
// 256 KB payload is billed as 4). The payload is what carries messages: the bodies and attributes sent
// by SendMessage and SendMessageBatch and those returned by ReceiveMessage; an empty receive is 1.

export const SQS_CHUNK_BYTES = 64 * 1024;

interface MessageLike {
  MessageBody?: string;
  Body?: string;
  MessageAttributes?: Record<string, { DataType?: string; StringValue?: string; BinaryValue?: string }>;
}

const utf8 = (value: string | undefined): number => (value === undefined ? 0 : Buffer.byteLength(value, 'utf8'));

const messageBytes = (message: MessageLike): number =>
  utf8(message.MessageBody ?? message.Body) +
  Object.entries(message.MessageAttributes ?? {}).reduce(
    (sum, [name, value]) => sum + utf8(name) + utf8(value.DataType) + utf8(value.StringValue) + (value.BinaryValue ? Buffer.from(value.BinaryValue, 'base64').length : 0),
    0,
  );

/** The payload bytes of one call, from its request and answer (JSON protocol). */
export const sqsPayloadBytes = (operation: string, input: Record<string, unknown>, output: Record<string, unknown> | undefined): number => {
  switch (operation) {
    case 'SendMessage':
      return messageBytes(input as MessageLike);
    case 'SendMessageBatch':
      return ((input.Entries ?? []) as MessageLike[]).reduce((sum, entry) => sum + messageBytes(entry), 0);
    case 'ReceiveMessage':
      return ((output?.Messages ?? []) as MessageLike[]).reduce((sum, message) => sum + messageBytes(message), 0);
    default:
      return 0;
  }
};

export const billedRequests = (payloadBytes: number): number => Math.max(1, Math.ceil(payloadBytes / SQS_CHUNK_BYTES));
