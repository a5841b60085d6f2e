# observatory-sink in a container (used by docker-compose.yaml; see docs/getting-started.md).
#
#   docker build -t observatory-sink .
#   docker run --rm -p 127.0.0.1:4320:4320 -v observatory-data:/data observatory-sink
#
# Build stage: the official Swift image (the toolchain the project is built and tested with),
# scripts/build-release.sh: a release build with the Swift runtime and Foundation linked
# statically (the runtime stage needs only the C libraries below), linked by lld with packed
# relative relocations (a smaller idle RSS; see docs/benchmarks.md). Runtime stage: Ubuntu 24.04, the same distribution as the
# build image (same glibc), a non-root user, the data directory as a volume.

FROM swift:6.3.1-noble AS build
# GRDB links the system SQLite. Apt packages are not pinned to versions (DL3008): Ubuntu's archive
# keeps only the current one, so a pin breaks the build at the next security update; the base
# images are pinned instead.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libsqlite3-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so a change in Sources/ does not fetch them again.
COPY Package.* ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
COPY scripts/build-release.sh ./scripts/
RUN scripts/build-release.sh --product observatory-sink \
    && scripts/build-release.sh --product observatory \
    && mkdir -p /out \
    && bin="$(swift build -c release --show-bin-path)" \
    && cp "$bin/observatory-sink" "$bin/observatory" /out/ \
    && strip /out/observatory-sink /out/observatory

FROM ubuntu:24.04
# libsqlite3-0: the database; ca-certificates: Web Push over HTTPS; tzdata: rules' quiet hours in
# a named time zone. libstdc++, libgcc, zlib and glibc are in the base image already. No curl: the
# health check is a bash script (docker/healthcheck.sh). Not version-pinned: see the build stage.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libsqlite3-0 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/*

# The sink runs as this user. Match it to your own uid (build arg UID, compose: OBSERVATORY_UID)
# when you use the control helper: the helper accepts only peers with its own uid on its socket.
# The base image's `ubuntu` user (uid 1000) is removed so that 1000 is free.
ARG UID=1000
ARG GID=1000
RUN userdel --remove ubuntu 2>/dev/null; \
    groupadd --gid "${GID}" observatory \
    && useradd --uid "${UID}" --gid "${GID}" --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin observatory \
    && mkdir -p /data /run/observatory-host/observatory \
    && chown "${UID}:${GID}" /data \
    && chmod 0700 /data

COPY --from=build /out/observatory-sink /out/observatory /usr/local/bin/
COPY docker/healthcheck.sh /usr/local/bin/observatory-healthcheck
COPY dashboard/dist /usr/share/observatory/dashboard
COPY rules /etc/observatory/rules

# Every setting the sink reads from the environment (docs/configuration.md). Inside a container
# both servers must listen on all interfaces: the collector reaches ingest over the compose
# network, and a published port reaches the API through the container's interface. Only the ports
# you publish are reachable from outside (docker-compose.yaml publishes the API on 127.0.0.1).
# Beyond loopback the sink requires OBSERVATORY_INGEST_TOKEN for ingest (the collector sends it;
# docker-compose.yaml passes it to both) and a device token login for the dashboard and API.
# XDG_RUNTIME_DIR: the host's $XDG_RUNTIME_DIR/observatory (the control helper's socket) is
# mounted at $XDG_RUNTIME_DIR/observatory here, so the socket has the same relative path.
ENV OBSERVATORY_DATA_DIR=/data \
    OBSERVATORY_RULES_DIR=/etc/observatory/rules \
    OBSERVATORY_DASHBOARD_DIR=/usr/share/observatory/dashboard \
    OBSERVATORY_INGEST_HOST=0.0.0.0 \
    OBSERVATORY_INGEST_PORT=4318 \
    OBSERVATORY_API_HOST=0.0.0.0 \
    OBSERVATORY_API_PORT=4320 \
    XDG_RUNTIME_DIR=/run/observatory-host \
    HOME=/data

USER ${UID}:${GID}
WORKDIR /data
VOLUME ["/data"]
# 4318: OTLP/HTTP ingest (the collector's otlphttp exporter). 4320: API, dashboard, WebSocket.
EXPOSE 4318 4320
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/observatory-healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/observatory-sink", "serve"]
