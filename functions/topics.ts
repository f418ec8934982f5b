import { getServices } from '#lib/app/services';
import { listTopics } from '#lib/api/topics';
import { httpHandler, json } from '#http/api';

export const handler = httpHandler(async () => json(200, await listTopics(getServices())));
