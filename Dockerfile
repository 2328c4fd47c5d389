# syntax=docker/dockerfile:1
# The registry on Bun, as a small image that runs as a non-root user.
#
#   docker build -t schema-registry .
#   docker run -p 8080:8080 -e DATABASE_URL=postgres://… -e AUTH_BOOTSTRAP_ADMIN_KEY=… schema-registry
#
# Stage 1 installs the production dependencies exactly as package-lock.json
# pins them (npm ci --omit=dev: no Bun, Deno, TypeScript or test tools in the
# image). Stage 2 is Bun's slim image with the sources and those modules;
# TypeScript runs as it is, so there is no build step. The Deno image is
# Dockerfile.deno.

ARG BUN_VERSION=1.4.5
ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM oven/bun:${BUN_VERSION}-slim AS runtime
WORKDIR /app
# HOST: the server's default is 127.0.0.1 with the embedded database; in a container it must listen on
# every interface. DATA_DIR: where the embedded database (no DATABASE_URL) lives; mount a volume to keep it.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/app/data
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json bunfig.toml ./
COPY src ./src
COPY migrations ./migrations
COPY scripts ./scripts
# The image's own `bun` user (uid 1000) owns only the data directory.
RUN mkdir -p /app/data && chown bun:bun /app/data
USER bun
VOLUME ["/app/data"]
EXPOSE 8080
# Ready means PostgreSQL answers with the migrations applied; a fresh embedded database takes a few seconds.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["bun", "-e", "const r = await fetch(`http://127.0.0.1:${process.env.PORT ?? 8080}/health/ready`).catch(() => null); process.exit(r?.ok ? 0 : 1)"]
# SIGTERM drains the requests in flight (up to 20 s) before exiting.
STOPSIGNAL SIGTERM
CMD ["bun", "src/server.ts"]
