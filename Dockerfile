# syntax=docker/dockerfile:1
# Two stages: install, generate the Prisma client and compile to JavaScript, then keep only the runtime
# dependencies; the runtime stage ships just what runs (compiled dist/, those dependencies, the migrations).
# tests/server/image.test.ts performs these stages without a container engine, reading this file's COPY and
# RUN lines, so the two cannot drift apart.
#
# Migrations are their own command, run once per release (a release phase, a Kubernetes init container or Job),
# never by every replica at start: the server (NODE_ENV=production, MIGRATE_ON_START unset) refuses to start while
# a migration is pending, naming this command:
#   docker run --rm --env-file prod.env IMAGE node dist/scripts/migrate.js deploy
# The frontends' trusted-document manifests are mounted and named by TRUSTED_DOCUMENTS.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts ./scripts
COPY src ./src
# npm ci runs the postinstall (`prisma generate`, offline); then the build; then only runtime dependencies stay.
# --omit=optional too: npm keeps the Prisma CLI (an optional peer of @prisma/client, with its Studio and local
# dev server) unless optional packages go as well; the server needs neither, nor pg's Cloudflare socket.
RUN npm ci && npm run build && npm prune --omit=dev --omit=optional

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=4000 \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json package-lock.json ./
COPY --chown=node:node prisma ./prisma
USER node
EXPOSE 4000
# Liveness only: a database outage would make every replica unhealthy at once, and restarting them cannot help
# (load balancers take /ready out of rotation instead).
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/src/main.js"]
