#!/usr/bin/env bash
# CI: runs the collection with newman (pinned in package.json, installed from the
# lockfile) against the gatehouse that scripts/test-examples.sh started
# (GATEHOUSE_URL, GATEHOUSE_CLIENT_ID, GATEHOUSE_API_KEY). newman exits non-zero
# if any request fails or any assertion does not hold.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
: "${GATEHOUSE_URL:?}" "${GATEHOUSE_CLIENT_ID:?}" "${GATEHOUSE_API_KEY:?}"
# npm ci once: again only when the lockfile changed since the last install.
if [ ! -x node_modules/.bin/newman ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
node_modules/.bin/newman run gatehouse.postman_collection.json \
  -e gatehouse.postman_environment.json \
  --env-var "baseUrl=${GATEHOUSE_URL%/}" \
  --env-var "clientId=$GATEHOUSE_CLIENT_ID" \
  --env-var "apiKey=$GATEHOUSE_API_KEY" \
  --env-var "email=newman-$(date +%s)-$$-$RANDOM@example.com" \
  --color off --no-insecure-file-read
