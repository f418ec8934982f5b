import { config } from '#lib/app/config';
import { validatePublishRequest } from '#lib/core/publish-request';
import { publishEvents } from '#lib/api/ingest';
import type { PublishAnswer } from '#lib/api/wire';
import { getServices } from '#lib/app/services';
import { apiKey } from '#http/auth';
import { httpHandler, json, jsonBody } from '#http/api';

// The key is checked before the body is even parsed.
export const handler = httpHandler(
  async (event) => {
    const events = validatePublishRequest(event.jsonBody);
    const result = await publishEvents(getServices(), events);
    // 202 Accepted, and where to ask when the events are counted (RFC 9110's status monitor).
    const answer: PublishAnswer = { accepted: result.accepted, messages: result.messages, receipt: result.receipt };
    return json(202, answer, { location: `/receipts/${result.receipt}` });
  },
  apiKey('publish', () => config().PUBLISH_API_KEYS),
  jsonBody(),
);
