# The voice worker's container image. `lk agent create` / `lk agent deploy` build this file on
# LiveKit Cloud; `docker build -t voice-agent .` builds it anywhere. The project runs its
# TypeScript directly on Node 24, so there is nothing to compile: `npm run build` is the type check.

# Node 24 (the major of the `node` devDependency and of the tests) on Debian slim, for every stage, so the native
# packages (onnxruntime-node, @livekit/rtc-node, local inference) are installed for the platform
# they run on.
FROM node:24-trixie-slim AS base
# LiveKit's native core reads the system trust store for TLS; the slim image ships without one.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# onnxruntime-node skips its CUDA download (its CPU binaries are bundled) whatever the image's npm:
# package.json's allowScripts denies it only on an npm that reads allowScripts.
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false ONNXRUNTIME_NODE_INSTALL=skip

# Production dependencies only. The `node` devDependency, which gives development machines Node 24, is
# left out: the base image is Node 24.
FROM base AS prod-deps
COPY package.json package-lock.json .npmrc ./
# npm ci's postinstall applies the project's pinned patches of dependencies (patch-package).
COPY src/patches ./src/patches
# onnxruntime-node also ships its macOS and Windows binaries (about 160 MB): a Linux image never loads them.
RUN npm ci --omit=dev \
 && rm -rf node_modules/onnxruntime-node/bin/napi-v6/darwin node_modules/onnxruntime-node/bin/napi-v6/win32

# The type check needs the dev dependencies and everything tsconfig.json includes (src, sim, test,
# bench). It is the same gate as CI, so a broken build never becomes an image.
FROM base AS build
COPY package.json package-lock.json .npmrc ./
COPY src/patches ./src/patches
RUN npm ci
COPY . .
RUN npm run build
# The worker bundle (src/worker/bundle.ts): one file per worker and job process, built here where
# esbuild is installed; the runtime image has no esbuild and uses this one, for these sources.
RUN node src/worker/build-bundle.ts

FROM base AS runtime
ENV NODE_ENV=production
COPY --from=prod-deps /app/node_modules ./node_modules
COPY package.json package-lock.json .npmrc ./
# From the build stage, not the context: this makes the image depend on the type check.
COPY --from=build /app/src ./src
COPY --from=build /app/.cache/worker-bundle ./.cache/worker-bundle
# The product only: the stand-ins (sim/), the bench and the tests stay out. `npm run chat` in the
# image needs OPENAI_API_KEY, and says so when it is missing.
# The turn journal (MEMORY_JOURNAL_DIR, default ./data/journal) must be writable by the worker.
RUN install -d -o node -g node /app/data
# The image's `node` user, by number so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000

# Worker health: GET / answers 200 "OK" while registered with LiveKit, 503 otherwise;
# GET /worker answers JSON (agent name, active jobs, SDK version).
EXPOSE 8081
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8081/').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# The `start` script's command, run directly rather than through npm: node is PID 1 and receives
# SIGTERM itself, which drains the worker (no new jobs, running calls finish).
CMD ["node", "src/main.ts", "start"]
