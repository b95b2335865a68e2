#!/usr/bin/env bash
# Installs nginx from Debian's package (nginx-light: the load balancer of the
# multi-host stage, scripts/test-multihost.sh), idempotently, and prints the
# binary's path. Does not start or enable the system service.
set -euo pipefail
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  export DEBIAN_FRONTEND=noninteractive
  # The package's postinst would start the distribution's own server: a
  # policy-rc.d that says "no" keeps it stopped (removed again afterwards).
  policy=/usr/sbin/policy-rc.d
  made_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
  fi
  apt-get install -y -q nginx-light >&2 || { apt-get update -q >&2 && apt-get install -y -q nginx-light >&2; }
  [ -n "$made_policy" ] && rm -f "$policy"
fi
command -v nginx 2>/dev/null || echo /usr/sbin/nginx
