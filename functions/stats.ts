import { getServices } from '#lib/app/services';
import { readStats } from '#lib/api/stats';
import { httpHandler, json } from '#http/api';

export const handler = httpHandler(async () => json(200, await readStats(getServices())));
