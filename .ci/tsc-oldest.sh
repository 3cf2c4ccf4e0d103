#!/usr/bin/env bash
# Type-check src/ against the oldest JupyterLab packages package.json accepts: for each
# "@jupyterlab/*": "^X.Y.Z" dependency, exactly X.Y.Z from the npm registry (the typings of
# JupyterLab 4.0.0), so an API newer than the stated range fails here, not in a user's browser.
# `make lint-ts` runs it; the browser suite loads the build in JupyterLab 4.0 (make versions).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

node - "$repo/package.json" > "$work/package.json" <<'JS'
const source = require(process.argv[2]);
const dependencies = {};
for (const [name, range] of Object.entries(source.dependencies)) {
  if (name.startsWith('@jupyterlab/')) {
    dependencies[name] = range.replace(/^\^/, '');
  }
}
dependencies.typescript = source.devDependencies.typescript;
console.log(JSON.stringify({ name: 'tsc-oldest', private: true, dependencies }, null, 2));
JS
cd "$work"
npm install --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null
cp -r "$repo/src" "$repo/tsconfig.json" .
node -e "const p=require('./package.json').dependencies; console.log('tsc against', Object.entries(p).map(([n,v])=>n.replace('@jupyterlab/','')+'@'+v).join(' '))"
node_modules/.bin/tsc --noEmit --composite false --incremental false -p .
echo "src/ type-checks against the oldest JupyterLab packages package.json accepts"
