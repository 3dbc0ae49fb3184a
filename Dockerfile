# The copilot's worker image (the Fargate task): `node main.mjs` on the output of `npm run build`.
#
#   docker build -t copilot-worker .          # or CDK's ContainerImage.fromAsset('.', …)
#   docker run --env-file worker.env copilot-worker
#
# Configuration is the worker's environment (README, "Configuration"); the store must be
# PostgreSQL or Aurora DSQL: the image carries no embedded store (PGlite), no Temporal dev server,
# no tsx. Build it on the platform it runs on (`--platform linux/arm64` for Graviton): the build
# keeps only that platform's Temporal core binary.

# Exact version: the glibc Debian "slim" variant, because the Temporal core's prebuilt binaries
# are linked against glibc (there is no musl/Alpine build). Same Node as the tests ran on.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Dependencies first, so a source change does not reinstall them. Install scripts stay off, as
# package.json's allowScripts has them (esbuild and @swc/core ship their binaries as packages).
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN npm run build:worker

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# Only the build output: the bundled worker, its prebuilt workflows, and the packages it loads
# (copied by scripts/build.ts). Owned by root and read-only to the process: it writes nothing.
COPY --from=build /src/dist/worker/ /app/
# The official image's unprivileged user (uid 1000).
USER node
# SIGTERM from ECS lets in-flight activities finish (shutdownGraceTime 10 s, within ECS's 30 s).
STOPSIGNAL SIGTERM
CMD ["node", "main.mjs"]
