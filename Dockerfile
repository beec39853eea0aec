# docker-monitor exporter image (Node.js 24, Debian bookworm, runs as the unprivileged user `node`).
#   docker build -t docker-monitor --build-arg REVISION=$(git rev-parse HEAD) .
#   docker run -d --name docker-monitor --init --restart unless-stopped \
#     --read-only --cap-drop ALL --security-opt no-new-privileges \
#     -p 127.0.0.1:10091:10091 \
#     -v /var/run/docker.sock:/var/run/docker.sock \
#     --group-add "$(stat -c %g /var/run/docker.sock)" docker-monitor
# --group-add gives it the socket's group at run time, so the image bakes in no host's docker GID.
# NODE_IMAGE: any image with Node.js 20 or later, npm, and a user `node` (the official node images).

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
# The build stage has no .git: the revision comes from the build argument (scripts/build-info.mjs).
ARG REVISION=unknown
RUN DOCKER_MONITOR_REVISION=${REVISION} npm run build

# The runtime's packages, installed afresh: `npm prune` would leave dev-only optional packages behind
# (esbuild's binary). No install scripts: the only native add-on (ssh2's cpu-features) is optional.
FROM ${NODE_IMAGE} AS runtime-packages
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY --from=runtime-packages /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 10091
# Asks /-/healthy on every address serve listens on, as Prometheus reaches it: for :10091 that is the
# container's own network addresses, not 127.0.0.1. If you give serve another --web.listen-address
# (or -f with one, or --web.config.file), give the health check the same flags:
#   --health-cmd '/app/dist/cli.js healthcheck --web.listen-address :9999'
HEALTHCHECK --interval=30s --timeout=10s --start-period=15s --retries=3 \
  CMD ["/app/dist/cli.js", "healthcheck"]
# The entry point's own #! line starts Node with the exporter's V8 settings (see docs/performance.md).
ENTRYPOINT ["/app/dist/cli.js"]
CMD ["serve"]
