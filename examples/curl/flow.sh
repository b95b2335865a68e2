#!/usr/bin/env bash
# The whole Gatehouse flow with curl: register, login, profile, refresh (rotation, a
# retry inside the reuse grace, replay), change password, logout. Stops with exit 1
# at the first unexpected status.
#
#   GATEHOUSE_URL=http://127.0.0.1:8000 GATEHOUSE_CLIENT_ID=cl_… GATEHOUSE_API_KEY=sk_… ./flow.sh
#
# Needs only bash and curl (no jq, no python: see `field`).
set -euo pipefail

URL="${GATEHOUSE_URL:-http://127.0.0.1:8000}"
URL="${URL%/}"
: "${GATEHOUSE_CLIENT_ID:?set GATEHOUSE_CLIENT_ID (gatehouse create-api-client --json prints it)}"
: "${GATEHOUSE_API_KEY:?set GATEHOUSE_API_KEY}"
QUIET="${QUIET:-}"  # QUIET=1: one line per step, no response bodies

RUN="$(date +%s)-$$-$RANDOM"
EMAIL="${EMAIL:-curl-$RUN@example.com}"
USERNAME="${USERNAME:-curl_${RUN//-/_}}"
PASSWORD="correct horse battery staple"
NEW_PASSWORD="another horse, another staple"

STEP=0
BODY=""
OUT="$(mktemp)"
trap 'rm -f "$OUT"' EXIT

# call EXPECTED METHOD PATH [JSON_BODY] [ACCESS_TOKEN]
# Sends one request with the API client's headers; leaves the response body in $BODY.
call() {
  local expected="$1" method="$2" path="$3" data="${4:-}" token="${5:-}"
  local args=(-sS -o "$OUT" -w '%{http_code}' -X "$method"
    -H "X-Client-ID: $GATEHOUSE_CLIENT_ID" -H "X-API-Key: $GATEHOUSE_API_KEY")
  [ -n "$data" ] && args+=(-H 'Content-Type: application/json' --data "$data")
  [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
  STEP=$((STEP + 1))
  local status
  status="$(curl "${args[@]}" "$URL$path")" || { echo "FAIL step $STEP: $method $path: curl could not reach $URL" >&2; exit 1; }
  BODY="$(cat "$OUT")"
  if [ "$status" != "$expected" ]; then
    echo "FAIL step $STEP: $method $path returned $status, expected $expected" >&2
    echo "  body: $BODY" >&2
    exit 1
  fi
  echo "ok  $STEP  $status $method $path"
  if [ -z "$QUIET" ]; then echo "        $BODY" | cut -c1-160; fi
}

# field PATH: the value at PATH (`key` or `parent.key`) in $BODY, empty if absent;
# "[list]" for a list (a DRF field error). Plain bash regex, no subprocess: with
# 3-second access tokens on a busy CI machine, every process spawned between a
# login and the token's use counts. It reads what this flow needs (tokens, emails,
# codes, names: strings without escapes, numbers, booleans), not arbitrary JSON.
field() {
  local key="${1##*.}" prefix="" ws='[[:space:]]*'
  [[ "$1" == *.* ]] && prefix="\"${1%%.*}\":$ws\\{[^{}]*"
  local re="$prefix\"$key\":$ws(\"([^\"\\\\]*)\"|\\[|[-0-9.a-z]+)"
  if [[ "$BODY" =~ $re ]]; then
    case "${BASH_REMATCH[1]}" in
      \"*) printf '%s\n' "${BASH_REMATCH[2]}" ;;
      "[") echo "[list]" ;;
      null) echo "" ;;
      *) printf '%s\n' "${BASH_REMATCH[1]}" ;;
    esac
  fi
}

# expect_field PATH VALUE: fails unless $BODY has that value at PATH.
expect_field() {
  local got
  got="$(field "$1")"
  if [ "$got" != "$2" ]; then
    echo "FAIL step $STEP: expected $1 = '$2', got '$got'" >&2
    echo "  body: $BODY" >&2
    exit 1
  fi
}

# expect_token PATH: fails unless $BODY has a JWT-shaped string at PATH; prints it.
expect_token() {
  local t
  t="$(field "$1")"
  if [[ ! "$t" =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]]; then
    echo "FAIL step $STEP: no token at '$1' in: $BODY" >&2
    exit 1
  fi
  printf '%s' "$t"
}

echo "Gatehouse at $URL, client $GATEHOUSE_CLIENT_ID, user $EMAIL"

echo "# 0. Every /api/ call carries the client's key; without it: 401 api_key_missing"
STEP=$((STEP + 1))
status="$(curl -sS -o /dev/null -w '%{http_code}' "$URL/api/auth/profile/")" || { echo "FAIL: cannot reach $URL" >&2; exit 1; }
[ "$status" = 401 ] || { echo "FAIL step $STEP: GET /api/auth/profile/ without a key returned $status, expected 401" >&2; exit 1; }
echo "ok  $STEP  401 GET /api/auth/profile/ (no X-API-Key)"

echo "# 1. Register (a creator; signs in at once)"
call 201 POST /api/auth/register/ "{\"email\": \"$EMAIL\", \"username\": \"$USERNAME\", \"password\": \"$PASSWORD\", \"password2\": \"$PASSWORD\", \"first_name\": \"Ada\", \"last_name\": \"Lovelace\"}"
expect_field user.email "$EMAIL"
expect_field user.user_type creator
REG_REFRESH="$(expect_token refresh)"

echo "# 2. Log in"
call 200 POST /api/auth/token/ "{\"email\": \"$EMAIL\", \"password\": \"$PASSWORD\"}"
ACCESS="$(expect_token access)"
REFRESH="$(expect_token refresh)"

echo "# 3. Profile (authenticated with the access token)"
call 200 GET /api/auth/profile/ "" "$ACCESS"
expect_field email "$EMAIL"
expect_field first_name Ada

echo "# 4. Edit the profile (PATCH: only the fields sent change)"
call 200 PATCH /api/auth/profile/ '{"first_name": "Augusta"}' "$ACCESS"
expect_field first_name Augusta
expect_field last_name Lovelace

echo "# 4b. Changing the password needs the old one: a validation error by field"
call 400 POST /api/auth/change-password/ "{\"old_password\": \"wrong\", \"new_password\": \"$NEW_PASSWORD\", \"new_password2\": \"$NEW_PASSWORD\"}" "$ACCESS"
[ -n "$(field old_password)" ] || { echo "FAIL step $STEP: no old_password error in $BODY" >&2; exit 1; }

echo "# 5. Refresh: a new pair; the refresh token rotates"
call 200 POST /api/auth/token/refresh/ "{\"refresh\": \"$REFRESH\"}"
ACCESS="$(expect_token access)"
NEW_REFRESH="$(expect_token refresh)"
call 200 GET /api/auth/profile/ "" "$ACCESS"
expect_field first_name Augusta

echo "# 6. The spent refresh token sent again at once (a retry whose answer was lost, or"
echo "#    a racing tab) gets the same new refresh token: the reuse grace, 30 s by default"
call 200 POST /api/auth/token/refresh/ "{\"refresh\": \"$REFRESH\"}"
[ "$(expect_token refresh)" = "$NEW_REFRESH" ] || { echo "FAIL step $STEP: not the same refresh token" >&2; exit 1; }
echo "# 7. Refresh again: the chain goes on; the first token is now two rotations old"
call 200 POST /api/auth/token/refresh/ "{\"refresh\": \"$NEW_REFRESH\"}"
NEWER_REFRESH="$(expect_token refresh)"
echo "# 8. The token two rotations old is dead (a replay)"
call 401 POST /api/auth/token/refresh/ "{\"refresh\": \"$REFRESH\"}"
expect_field code token_not_valid
echo "# 9. ...and a replay revokes its whole login, so the newest refresh token is dead too"
call 401 POST /api/auth/token/refresh/ "{\"refresh\": \"$NEWER_REFRESH\"}"
expect_field code token_not_valid

echo "# 10. Change password (log in again first: the login above was revoked)"
call 200 POST /api/auth/token/ "{\"email\": \"$EMAIL\", \"password\": \"$PASSWORD\"}"
ACCESS="$(expect_token access)"
call 200 POST /api/auth/change-password/ "{\"old_password\": \"$PASSWORD\", \"new_password\": \"$NEW_PASSWORD\", \"new_password2\": \"$NEW_PASSWORD\"}" "$ACCESS"
expect_field detail "Password changed."
expect_token access >/dev/null
expect_token refresh >/dev/null
echo "# 11. Every older refresh token of the user is revoked (here: the one from register)"
call 401 POST /api/auth/token/refresh/ "{\"refresh\": \"$REG_REFRESH\"}"

echo "# 12. The old password no longer works; the new one does"
call 401 POST /api/auth/token/ "{\"email\": \"$EMAIL\", \"password\": \"$PASSWORD\"}"
expect_field code no_active_account
call 200 POST /api/auth/token/ "{\"email\": \"$EMAIL\", \"password\": \"$NEW_PASSWORD\"}"
ACCESS="$(expect_token access)"
REFRESH="$(expect_token refresh)"

echo "# 13. Log out (revokes this login's refresh token)"
call 200 POST /api/auth/logout/ "{\"refresh\": \"$REFRESH\"}" "$ACCESS"
echo "# 14. A refresh after logout is rejected"
call 401 POST /api/auth/token/refresh/ "{\"refresh\": \"$REFRESH\"}"
expect_field code token_not_valid

echo "PASS: $STEP steps, all with the expected status"
