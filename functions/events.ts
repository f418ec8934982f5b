import { getServices } from '#lib/services';
import { queryEvents } from '#lib/query';
import { httpHandler, json } from '#http/api';

export const handler = httpHandler(async (event) => json(200, await queryEvents(getServices(), event.queryStringParameters ?? {})));
