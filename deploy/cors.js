// Why this file: CORS for the HTTP API on AWS, from CORS_ORIGINS (comma-separated origins) at deploy
// time: exact origins, no credentials, never a wildcard echo. Without origins, no CORS at all (the
// browser console served by the API itself is same-origin and needs none). Locally, local/gateway.ts
// applies the same setting.
'use strict';

module.exports.cors = () => {
  const origins = (process.env.CORS_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  if (origins.length === 0) return false;
  return {
    allowedOrigins: origins,
    allowedHeaders: ['content-type', 'x-api-key', 'authorization'],
    allowedMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    allowCredentials: false,
    maxAge: 600,
  };
};
