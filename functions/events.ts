import { config } from '#lib/app/config';
import { readKeys } from '#lib/api/auth';
import { apiKey } from '#http/auth';
import { getEvent, queryEvents, tailEvents } from '#lib/api/query';
import { getServices } from '#lib/app/services';
import { httpHandler, json } from '#http/api';

// GET /events, GET /events/tail and GET /events/{topic}/{event_id}. API Gateway (and serverless
// offline) hand over path parameters already URL-decoded.
export const handler = httpHandler(async (event) => {
  const { topic, event_id: eventId } = event.pathParameters ?? {};
  if (topic !== undefined && eventId !== undefined) return json(200, await getEvent(getServices(), topic, eventId));
  if (event.rawPath.endsWith('/events/tail')) return json(200, await tailEvents(getServices(), event.queryStringParameters ?? {}));
  return json(200, await queryEvents(getServices(), event.queryStringParameters ?? {}));
}, apiKey('read', () => readKeys(config())));
