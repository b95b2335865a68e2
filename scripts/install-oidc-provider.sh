#!/usr/bin/env bash
# Installs the test OpenID Provider (npm oidc-provider, pinned by
# scripts/oidc-provider/package-lock.json) into scripts/oidc-provider/
# node_modules, idempotently (again only when the lockfile changed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$ROOT/scripts/oidc-provider"
STAMP="$DIR/node_modules/.installed-lock"
if [ ! -f "$STAMP" ] || ! cmp -s "$DIR/package-lock.json" "$STAMP"; then
  (cd "$DIR" && npm ci --ignore-scripts --no-audit --no-fund >&2)
  cp "$DIR/package-lock.json" "$STAMP"
fi
