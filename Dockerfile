# docker-monitor exporter image.
#   docker build -t docker-monitor --build-arg REVISION=$(git rev-parse --short HEAD) .
#   docker run -d --name docker-monitor --init -p 127.0.0.1:10091:10091 \
#     -v /var/run/docker.sock:/var/run/docker.sock \
#     --group-add "$(stat -c %g /var/run/docker.sock)" docker-monitor
# It runs as the unprivileged user `node`; --group-add gives it the socket's group at run time, so
# the image does not bake in any host's docker GID.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ARG REVISION=unknown
ENV NODE_ENV=production \
    DOCKER_MONITOR_REVISION=${REVISION}
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 10091
# Node's own fetch, so the image needs no curl. Set HEALTHCHECK_URL when you change
# --web.listen-address (TLS or basic auth from --web.config.file: point it at a plain listener or
# override the health check).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.HEALTHCHECK_URL ?? 'http://127.0.0.1:10091/-/healthy').then((res) => process.exit(res.ok ? 0 : 1), () => process.exit(1))"]
# The entry point's own #! line starts Node with the exporter's V8 settings (see docs/performance.md).
ENTRYPOINT ["/app/dist/cli.js"]
CMD ["serve"]
