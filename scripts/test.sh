#!/usr/bin/env bash
# Run every test of tsunagu. Installs what the tests need when it is missing, so it works on a
# fresh machine; extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo is required (https://rustup.rs)" >&2
    exit 1
fi

# Browser tests (tests/browser.rs) drive headless Chromium; the setup installs it if absent.
TSUNAGU_AXE_JS="$(./scripts/browser-setup.sh)"
export TSUNAGU_AXE_JS

cargo test --workspace "$@"

# The contract, property-based: schemathesis over every operation of api-spec/openapi.yaml against
# the binary the tests just built (scripts/schemathesis.sh; about 2 minutes). Only on a full run.
if [ "$#" -eq 0 ]; then
    ./scripts/schemathesis.sh target/debug/tsunagu
fi
