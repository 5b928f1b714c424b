# syntax=docker/dockerfile:1
# One image for TRM's long-lived Node services; one target per service (docker-compose.yml).
# TypeScript runs directly on Node 24 (type stripping): no build step.
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS base
ENV NODE_ENV=production
WORKDIR /app
# workspace manifests first, so `npm ci` is cached until a dependency changes
COPY package.json package-lock.json ./
COPY common/package.json common/
COPY cli/package.json cli/
COPY ingest-daemon/package.json ingest-daemon/
COPY db-writer/package.json db-writer/
COPY live-gateway/package.json live-gateway/
COPY functions/package.json functions/
COPY connector/package.json connector/
COPY demo/package.json demo/
COPY safety/package.json safety/
# --ignore-scripts: the image already has Node 24, the `node` package need not fetch one
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY . .
RUN mkdir -p .trm && chown node:node .trm
USER node

FROM base AS db-init
CMD ["node", "cli/src/main.ts", "db:init", "--no-provision"]

FROM base AS ingest-daemon
EXPOSE 5027 5028
CMD ["node", "cli/src/main.ts", "ingest"]

FROM base AS db-writer
EXPOSE 5029
CMD ["node", "cli/src/main.ts", "writer"]

FROM base AS live-gateway
EXPOSE 8090
CMD ["node", "cli/src/main.ts", "gateway"]

FROM base AS functions
EXPOSE 8080
CMD ["node", "cli/src/main.ts", "functions"]

FROM base AS connector
EXPOSE 5031
CMD ["node", "cli/src/main.ts", "connector"]

FROM base AS safety
EXPOSE 5032
CMD ["node", "cli/src/main.ts", "safety"]
