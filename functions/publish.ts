import { validatePublishRequest } from '#lib/event';
import { publishEvents } from '#lib/ingest';
import { getServices } from '#lib/services';
import { httpHandler, json, jsonBody } from '#http/api';

export const handler = httpHandler(async (event) => {
  const events = validatePublishRequest(event.jsonBody);
  const result = await publishEvents(getServices(), events);
  return json(202, { accepted: result.accepted, messages: result.messages });
}, jsonBody());
