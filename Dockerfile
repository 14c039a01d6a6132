# syntax=docker/dockerfile:1
# Multi-stage build: install, generate the Prisma client and compile to JavaScript in one stage; ship only
# what runs (the compiled dist/, production dependencies, the migrations).

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts ./scripts
COPY src ./src
# npm ci runs the postinstall (`prisma generate`, offline); then the build; then only runtime dependencies stay.
RUN npm ci && npm run build && npm prune --omit=dev

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
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Apply pending migrations (DIRECT_URL, else DATABASE_URL), then serve; both compiled JavaScript.
CMD ["sh", "-c", "node dist/scripts/migrate.js deploy && exec node dist/src/main.js"]
