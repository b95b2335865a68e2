#!/usr/bin/env bash
# Validates the served OpenAPI document against the OpenAPI 3.1 schema.
#   scripts/check-openapi.sh [path/to/gatehouse]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${1:-${GATEHOUSE_BIN:-$ROOT/target/debug/gatehouse}}"
dir=$(mktemp -d)
"$BIN" --database-url "$dir/gh.db" serve --addr 127.0.0.1:0 >"$dir/out" 2>"$dir/err" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 200); do grep -q listening "$dir/out" 2>/dev/null && break; sleep 0.05; done
url=$(head -1 "$dir/out" | awk '{print $NF}')
curl -fsS "$url/api/schema/" >"$dir/openapi.json"
python3 - "$dir/openapi.json" <<'PY'
import json, sys
from openapi_spec_validator import validate
doc = json.load(open(sys.argv[1]))
validate(doc)
paths = sorted(doc["paths"])
print(f"OpenAPI {doc['openapi']} document is valid: {len(paths)} paths")
for p in paths:
    print("  ", p, ",".join(sorted(doc["paths"][p])))
PY
curl -fsS "$url/api/schema/?format=yaml" >"$dir/openapi.yaml"
head -1 "$dir/openapi.yaml" | grep -q '^openapi:' && echo "YAML form served"
