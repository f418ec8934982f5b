import { config } from '#lib/app/config';
import { validatePublishRequest } from '#lib/core/publish-request';
import { publishEvents } from '#lib/api/ingest';
import { getServices } from '#lib/app/services';
import { apiKey } from '#http/auth';
import { httpHandler, json, jsonBody } from '#http/api';

// The key is checked before the body is even parsed.
export const handler = httpHandler(
  async (event) => {
    const events = validatePublishRequest(event.jsonBody);
    const result = await publishEvents(getServices(), events);
    return json(202, { accepted: result.accepted, messages: result.messages });
  },
  apiKey('publish', () => config().PUBLISH_API_KEYS),
  jsonBody(),
);
