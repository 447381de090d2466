# syntax=docker/dockerfile:1
# GridPulse: build the single compiled binary with Bun, run it on distroless (glibc, no shell).
#   docker build -t gridpulse:local .        (compose.yaml builds it as service `gridpulse`)

# Keep in step with package.json's packageManager/devDependencies and .ci/run's BUN_VERSION.
# Both bases are by tag only: no digest for them could be verified from our build machines (no
# registry access); scripts/pin-images.sh pins them to name:tag@sha256:… where one is reachable.
FROM oven/bun:1.4.4 AS build
WORKDIR /src
COPY package.json bun.lock bunfig.toml ./
RUN bun install --frozen-lockfile
COPY . .
# The same build script as `bun run build`: dist/gridpulse, with migrations and docs embedded.
RUN bun scripts/build.ts dist/gridpulse \
 && mkdir -p /out/data

# glibc runtime like Bun's own distroless image; the :nonroot tag runs as uid/gid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
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
