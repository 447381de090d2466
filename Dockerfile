# syntax=docker/dockerfile:1
# GridPulse: build the single compiled binary with Bun, run it on distroless (glibc, no shell).
#   docker build -t gridpulse:local .        (compose.yaml builds it as service `gridpulse`)
#   docker buildx build --platform linux/amd64,linux/arm64 -t REGISTRY/gridpulse:TAG --push .
#
# Multi-arch without emulation: the build stage runs on the builder's own platform and
# cross-compiles for TARGETARCH; the arm64 Bun runtime comes from the npm registry, checked against
# bun.lock (scripts/bun-runtime.ts). Only the runtime stage is per architecture.

# Keep in step with package.json's packageManager/devDependencies and .ci/run's BUN_VERSION.
# The bases are by tag only: no digest for them could be verified from our build machines (no
# registry access); scripts/pin-images.sh pins them where one is reachable (the build image to its
# multi-arch index, each runtime stage to its own platform's manifest).
FROM --platform=$BUILDPLATFORM oven/bun:1.4.4 AS build
# amd64 | arm64, set by BuildKit from --platform; GRIDPULSE_COMMIT: the build context has no .git,
# pass `--build-arg GRIDPULSE_COMMIT=$(git rev-parse --short=12 HEAD)` for `gridpulse --version`.
ARG TARGETARCH
ARG GRIDPULSE_COMMIT
WORKDIR /src
COPY package.json bun.lock bunfig.toml ./
RUN bun install --frozen-lockfile
COPY . .
# The same build script as `bun run build`: dist/gridpulse, with migrations and docs embedded.
RUN bun scripts/build.ts dist/gridpulse --target "$TARGETARCH" \
 && mkdir -p /out/data

# glibc runtime like Bun's own distroless image; the :nonroot tag runs as uid/gid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime-amd64
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime-arm64
FROM runtime-${TARGETARCH}
COPY --from=build /src/dist/gridpulse /app/gridpulse
COPY --from=build --chown=65532:65532 /out/data /data
ENV DATA_DIR=/data
USER 65532:65532
EXPOSE 8080
VOLUME ["/data"]
# distroless has no curl: the binary checks its own /health.
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=6 CMD ["/app/gridpulse", "healthcheck"]
ENTRYPOINT ["/app/gridpulse"]
CMD ["serve"]
