import { config } from '#lib/app/config';
import { readKeys } from '#lib/api/auth';
import { apiKey } from '#http/auth';
import { getServices } from '#lib/app/services';
import { readSeries, readStats } from '#lib/api/stats';
import { httpHandler, json } from '#http/api';

// GET /stats and GET /stats/series.
export const handler = httpHandler(
  async (event) =>
    event.rawPath.endsWith('/series') ? json(200, await readSeries(getServices(), event.queryStringParameters ?? {})) : json(200, await readStats(getServices())),
  apiKey('read', () => readKeys(config())),
);
