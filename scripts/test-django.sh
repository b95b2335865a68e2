#!/usr/bin/env bash
# The `django` stage: migrating from the seed Django deployment, end to end
# (docs/MIGRATING.md). Starts the seed from ../shared/django-ref (beside the
# repository), makes users, staff, clients and live tokens there, sets
# passwords with each Django hasher, runs `dumpdata`, imports it with
# `gatehouse import-django` and checks the result through a running
# gatehouse with the same client keys (scripts/django/stage.py).
#   scripts/test-django.sh [path/to/gatehouse]
# Env: DJANGO_REF (default ../shared/django-ref from the repository root).
# Installs the seed's requirements into .venv-django/ (idempotently).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
BIN="$(gatehouse_bin "${1:-}")"
# The seed as it stands beside the repository (../shared/django-ref), else the
# snapshot of it kept in tests/vendor/django-ref/ so the stage runs on any checkout.
REF="${DJANGO_REF:-$ROOT/../shared/django-ref}"
if [ -z "${DJANGO_REF:-}" ] && [ ! -f "$REF/manage.py" ]; then
  REF="$ROOT/tests/vendor/django-ref"
fi
if [ ! -f "$REF/manage.py" ] || [ ! -f "$REF/requirements.txt" ]; then
  echo "test-django: the seed Django deployment is not at $REF" >&2
  echo "  (expected ../shared/django-ref beside the repository, or tests/vendor/django-ref; set DJANGO_REF to its path)" >&2
  exit 1
fi
echo "test-django: the seed from $REF"
REF="$(cd "$REF" && pwd)"

VENV="$ROOT/.venv-django"
STAMP="$VENV/.requirements.sha256"
want="$(sha256sum "$REF/requirements.txt" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REF/requirements.txt"
  echo "$want" >"$STAMP"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$VENV/bin/python" scripts/django/stage.py --ref "$REF" --bin "$BIN" --work "$work"
