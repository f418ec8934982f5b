import { config } from '#lib/app/config';
import { receiptKeys } from '#lib/api/auth';
import { receiptStatus } from '#lib/api/receipts';
import { getServices } from '#lib/app/services';
import { apiKey } from '#http/auth';
import { httpHandler, json } from '#http/api';

// GET /receipts/{receipt}: whether the events of one POST /publish are counted yet (?wait=s long-polls).
export const handler = httpHandler(
  async (event) => json(200, await receiptStatus(getServices(), event.pathParameters?.receipt ?? '', event.queryStringParameters ?? {})),
  apiKey('receipt', () => receiptKeys(config())),
);
