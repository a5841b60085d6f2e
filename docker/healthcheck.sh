#!/usr/bin/env bash
# The container's HEALTHCHECK: GET /healthz on the sink's API port, healthy on an HTTP 200.
# Plain bash (/dev/tcp) so the runtime image needs no curl. Exit 0 healthy, 1 not.
#   OBSERVATORY_HEALTHCHECK_HOST  default 127.0.0.1
#   OBSERVATORY_API_PORT          default 4320 (the sink reads the same variable)
set -u
host="${OBSERVATORY_HEALTHCHECK_HOST:-127.0.0.1}"
port="${OBSERVATORY_API_PORT:-4320}"
{ exec 3<>"/dev/tcp/${host}/${port}"; } 2>/dev/null || { echo "no answer on ${host}:${port}" >&2; exit 1; }
printf 'GET /healthz HTTP/1.0\r\nHost: %s:%s\r\nConnection: close\r\n\r\n' "$host" "$port" >&3
IFS= read -r -t 4 status <&3 || { echo "no HTTP answer from ${host}:${port}" >&2; exit 1; }
exec 3<&-
case "$status" in
  "HTTP/1."[01]" 200 "*) exit 0 ;;
  *) echo "GET /healthz: ${status%$'\r'}" >&2; exit 1 ;;
esac
