// API key check as a middleware: the key comes from x-api-key or Authorization: Bearer.
import type { MiddlewareObj } from '@middy/core';
import { authorize, type Access } from '#lib/api/auth';
import type { HttpEvent, HttpResult } from './api.ts';

const presentedKey = (event: HttpEvent): string | undefined => {
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
  const bearer = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1];
  return headers['x-api-key'] ?? bearer;
};

export const apiKey = (access: Access, allowedKeys: () => string[]): MiddlewareObj<HttpEvent, HttpResult> => ({
  before: (request) => authorize(access, presentedKey(request.event), allowedKeys()),
});
