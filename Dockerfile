# The aggregator's app image for Docker Compose: serverless offline, the local SQS event source and the
# scheduler, against LocalStack. Node 22 like Lambda's nodejs22.x; runs as the image's non-root user.
FROM node:22-bookworm-slim

WORKDIR /app
RUN chown node:node /app
USER node

COPY --chown=node:node package.json package-lock.json ./
# npm install applies these fixes to dependencies (patch-package, postinstall).
COPY --chown=node:node patches ./patches
RUN npm install --no-audit --no-fund

COPY --chown=node:node . .

ENV HOST=0.0.0.0 \
    HTTP_PORT=3000 \
    LAMBDA_PORT=3002 \
    NODE_ENV=development
EXPOSE 3000
CMD ["npm", "start"]
