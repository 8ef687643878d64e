#!/usr/bin/env bash
# Install what the browser tests need when it is missing: Chromium and its WebDriver, a Japanese
# font (without one, Japanese renders as boxes in screenshots), and axe-core for the
# accessibility check. Prints the path of axe.min.js.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
# (Read the font list first: `fc-list | grep -q` would fail under pipefail when grep stops early.)
fonts="$(fc-list 2>/dev/null || true)"
grep -qi "noto sans cjk" <<<"$fonts" || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]} for the browser tests" >&2
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >&2
fi

tools=target/browser-tools
axe="$tools/node_modules/axe-core/axe.min.js"
if [ ! -f "$axe" ]; then
    command -v npm >/dev/null 2>&1 || { echo "npm is required for axe-core" >&2; exit 1; }
    mkdir -p "$tools"
    (cd "$tools" && npm install --no-audit --no-fund --silent axe-core@4 >&2)
fi
echo "$(pwd)/$axe"
