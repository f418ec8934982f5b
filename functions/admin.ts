import { purgeTopic, redrive } from '#lib/api/admin';
import { config } from '#lib/app/config';
import { getServices } from '#lib/app/services';
import { apiKey } from '#http/auth';
import { httpHandler, json } from '#http/api';

// POST /admin/redrive and DELETE /admin/topics/{topic}, both behind the admin key.
export const handler = httpHandler(
  async (event) => {
    const topic = event.pathParameters?.topic;
    if (topic !== undefined) return json(200, await purgeTopic(getServices(), topic));
    const result = await redrive(getServices());
    return json(200, { moved: result.moved, beyond_horizon: result.beyondHorizon });
  },
  apiKey('admin', () => config().ADMIN_API_KEYS),
);
