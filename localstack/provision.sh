#!/bin/sh
# Init hook for Docker Compose: creates the table and queues in LocalStack from serverless.yml
# `resources`, with the same code `npm start` uses for the embedded emulators (local/provision.ts).
# There is no second, hand-written definition of them. Idempotent: safe on every `docker compose up`.
set -eu
: "${AWS_ENDPOINT_URL:?set AWS_ENDPOINT_URL to the LocalStack endpoint, e.g. http://localstack:4566}"
exec node --import tsx scripts/provision.ts --endpoint "$AWS_ENDPOINT_URL"
