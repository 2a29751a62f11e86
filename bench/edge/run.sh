#!/usr/bin/env bash
# The edge's load harness (bench/README.md): installs nginx, haproxy (≥ 2.5, for jwt_verify) and
# wrk from Debian packages when missing, then runs bench/edge. Flags pass through, e.g.
#   bench/edge/run.sh -duration 20s -connections 128
set -euo pipefail
cd "$(dirname "$0")/../.."
need=()
for tool in nginx haproxy wrk; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || need+=("$tool")
done
if [ "${#need[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
v=$(haproxy -v | sed -n 's/^HAProxy version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
read -r major minor <<<"$v"
if [ "$major" -lt 2 ] || { [ "$major" -eq 2 ] && [ "$minor" -lt 5 ]; }; then
  echo "haproxy $major.$minor has no jwt_verify (needs 2.5+); see apt-cache policy haproxy" >&2
  exit 1
fi
export PATH="$PATH:/usr/sbin"
exec go run ./bench/edge "$@"
