#!/usr/bin/env bash
# npm ci, vite build into dist/, serve it on port 5102 and run the shared browser
# flow, and beside it the reset flow with the real mail (../e2e/reset-flow.mjs)
# the second factors (../e2e/mfa-flow.mjs: TOTP, passkeys) and the social
# sign-in through a real OpenID Provider (../e2e/social-flow.mjs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
EXAMPLE_EXTRA_TEST="bash ../e2e/extras.sh reset-flow.mjs mfa-flow.mjs social-flow.mjs" exec ../e2e/run-app.sh react "$((${EXAMPLES_APP_PORT_BASE:-5100} + 2))" dist
