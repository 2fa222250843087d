#!/usr/bin/env bash
# Installs the npm tools the local chain, the tests and the demo use (anvil, solc, Permit2's
# sources, viem, the reference x402 packages) into crates/coinslot-testkit/js, from its committed
# lock file. Runs `npm ci` only when the lock file changed since the last install.
#
# The tests also run the Python reference facilitator: the testkit pip-installs its pinned
# packages (crates/coinslot-testkit/python/requirements.txt) under target/ when a test first
# needs them. Here we make sure python3 has pip, and that Debian's Chromium is there for the
# browser tests (driven by the pinned npm playwright-core), installing them when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in cargo node npm; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is not on PATH" >&2; exit 1; }
done

js=crates/coinslot-testkit/js
if ! cmp -s "$js/package-lock.json" "$js/node_modules/.coinslot-lock" 2>/dev/null; then
  printf '\n==> npm ci (%s)\n' "$js"
  (cd "$js" && npm ci --no-audit --no-fund)
  cp "$js/package-lock.json" "$js/node_modules/.coinslot-lock"
fi

# Debian packages, installed as root with apt-get when `check` fails: `apt_install CHECK PKG...`.
apt_install() {
  local check=$1
  shift
  eval "$check" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    printf '\n==> apt-get install %s\n' "$*"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
  else
    echo "$0: $* needed (as root: apt-get install $*)" >&2
    exit 1
  fi
}

apt_install "python3 -m pip --version" python3 python3-pip
apt_install "test -x \"\${CHROMIUM:-/usr/bin/chromium}\"" chromium
