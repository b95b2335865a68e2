#!/usr/bin/env sh
# esbuild for worker-build 0.1.14 (build.sh's ESBUILD_BIN): the same, with
# `cloudflare:email` left to the runtime like the `cloudflare:sockets` and
# `cloudflare:workers` that worker-build already marks external. The mail
# binding (src/mail.rs) imports its EmailMessage class from there.
here="$(cd "$(dirname "$0")" && pwd)"
exec "${GATEHOUSE_REAL_ESBUILD:-$here/../node_modules/.bin/esbuild}" --external:cloudflare:email "$@"
