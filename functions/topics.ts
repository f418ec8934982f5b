import { getServices } from '#lib/services';
import { listTopics } from '#lib/topics';
import { httpHandler, json } from '#http/api';

export const handler = httpHandler(async () => json(200, await listTopics(getServices())));
