#!/usr/bin/env bash
# Runs an example's own browser checks one after the other against its app:
#   extras.sh SCRIPT.mjs... APP-URL      (scripts relative to examples/e2e/)
set -euo pipefail
E2E="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
url="${*: -1}"
for s in "${@:1:$#-1}"; do node "$E2E/$s" "$url"; done
