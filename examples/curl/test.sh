#!/usr/bin/env bash
# CI: runs flow.sh against the gatehouse that scripts/test-examples.sh started
# (GATEHOUSE_URL, GATEHOUSE_CLIENT_ID, GATEHOUSE_API_KEY). flow.sh exits non-zero
# at the first unexpected status.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${GATEHOUSE_URL:?}" "${GATEHOUSE_CLIENT_ID:?}" "${GATEHOUSE_API_KEY:?}"
QUIET=1 exec "$HERE/flow.sh"
