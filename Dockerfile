# syntax=docker/dockerfile:1
# Multi-stage build: install and generate the Prisma client in one stage, ship only runtime files.

FROM node:24-bookworm-slim AS build
WORKDIR /app
# Everything `npm ci` needs, including its postinstall (`prisma generate`, offline).
COPY package.json package-lock.json tsconfig.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts/generate.ts ./scripts/generate.ts
RUN npm ci && npm prune --omit=dev

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=4000 \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json package-lock.json tsconfig.json prisma.config.ts ./
COPY --chown=node:node prisma ./prisma
COPY --chown=node:node scripts ./scripts
COPY --chown=node:node src ./src
COPY --from=build --chown=node:node /app/src/generated ./src/generated
USER node
EXPOSE 4000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Apply pending migrations (DIRECT_URL, else DATABASE_URL), then serve.
CMD ["sh", "-c", "node --import tsx scripts/migrate.ts deploy && exec node --import tsx src/main.ts"]
