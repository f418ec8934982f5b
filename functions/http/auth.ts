// API key check as a middleware. The key is taken the ways the clients people use can send it:
// `x-api-key`, `Authorization: Bearer <key>`, `Authorization: Basic` with the key as the password
// (any user name: Fluent Bit, Vector, rsyslog, Promtail and Grafana Alloy offer a user and a password),
// and `Authorization: ApiKey <key>` (the Elasticsearch clients' `auth: { apiKey }`).
import type { MiddlewareObj } from '@middy/core';
import { authorize, type Access } from '#lib/api/auth';
import { header, type HttpEvent, type HttpResult } from './api.ts';

const fromAuthorization = (value: string): string | undefined => {
  const [, scheme = '', credentials = ''] = /^(\S+)\s+(.+)$/.exec(value.trim()) ?? [];
  switch (scheme.toLowerCase()) {
    case 'bearer':
    case 'apikey':
      return credentials.trim();
    case 'basic': {
      const decoded = Buffer.from(credentials.trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      return colon >= 0 ? decoded.slice(colon + 1) : undefined;
    }
    default:
      return undefined;
  }
};

export const presentedKey = (event: HttpEvent): string | undefined => {
  const key = header(event, 'x-api-key');
  if (key) return key;
  const authorization = header(event, 'authorization');
  return authorization ? fromAuthorization(authorization) || undefined : undefined;
};

export const apiKey = (access: Access, allowedKeys: () => string[]): MiddlewareObj<HttpEvent, HttpResult> => ({
  before: (request) => authorize(access, presentedKey(request.event), allowedKeys()),
});
