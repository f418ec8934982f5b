import { getServices } from '#lib/services';
import { readStats } from '#lib/stats';
import { httpHandler, json } from '#http/api';

export const handler = httpHandler(async () => json(200, await readStats(getServices())));
