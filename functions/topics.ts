import { config } from '#lib/app/config';
import { readKeys } from '#lib/api/auth';
import { apiKey } from '#http/auth';
import { getServices } from '#lib/app/services';
import { getTopic, listTopics } from '#lib/api/topics';
import { httpHandler, json } from '#http/api';

// GET /topics (paged by name) and GET /topics/{topic}.
export const handler = httpHandler(async (event) => {
  const topic = event.pathParameters?.topic;
  if (topic !== undefined) return json(200, await getTopic(getServices(), topic));
  return json(200, await listTopics(getServices(), event.queryStringParameters ?? {}));
}, apiKey('read', () => readKeys(config())));
