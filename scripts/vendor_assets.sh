#!/usr/bin/env bash
# Fetch the pinned front-end releases with `npm pack` and copy only their built files into
# web/static/vendor/: govuk-frontend (CSS, JS and the images its CSS needs), bpmn-js (the
# navigated viewer and modeler bundles, their CSS and the BPMN icon font) and dmn-js (the
# modeler bundle, its CSS and the DMN icon font). Run it when a pin changes and commit the
# result: the product itself installs and runs with pip alone (no node_modules).
#
# The GDS Transport typeface is for GOV.UK only, so its @font-face rules are removed and the
# font stack is replaced with system fonts; the CSS's absolute /assets/ URLs become relative.
set -euo pipefail

VERSION=6.3.0  # govuk-frontend
BPMN_JS_VERSION=18.31.1
DMN_JS_VERSION=17.10.2
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENDOR="$ROOT/web/static/vendor"
DEST="$VENDOR/govuk-frontend"
FONT_STACK='system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif'

command -v npm >/dev/null || { echo "vendor_assets: npm is needed to fetch the packages" >&2; exit 1; }
command -v node >/dev/null || { echo "vendor_assets: node is needed to post-process the CSS" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# fetch NAME VERSION: unpack that exact release into $WORK/NAME/package, checking what npm gave.
fetch() {
  local name="$1" version="$2" got
  npm pack --silent --pack-destination "$WORK" "$name@$version" >/dev/null
  mkdir -p "$WORK/$name"
  tar -xzf "$WORK/$name-$version.tgz" -C "$WORK/$name"
  got="$(node -p "require('$WORK/$name/package/package.json').version")"
  if [ "$got" != "$version" ]; then
    echo "vendor_assets: npm gave $name $got, expected $version" >&2
    exit 1
  fi
}

# copy_stripped SOURCE TARGET: copy a JS or CSS file without its sourceMappingURL comment.
copy_stripped() {
  mkdir -p "$(dirname "$2")"
  sed -e 's#//\# sourceMappingURL=.*$##' -e 's#/\*\# sourceMappingURL=[^*]*\*/##g' "$1" > "$2"
  if grep -q 'sourceMappingURL=' "$2"; then
    echo "vendor_assets: a sourceMappingURL is still in ${2#"$ROOT"/}" >&2
    exit 1
  fi
}

# -- govuk-frontend (MIT) -------------------------------------------------------------------

fetch govuk-frontend "$VERSION"
SRC="$WORK/govuk-frontend/package/dist/govuk"

rm -rf "$DEST"
mkdir -p "$DEST/assets/images"

# Only the images the CSS itself refers to (no GOV.UK favicons, no fonts).
for image in $(grep -o 'url(/assets/images/[^)]*)' "$SRC/govuk-frontend.min.css" \
               | sed -e 's#url(/assets/images/##' -e 's#)$##' | sort -u); do
  cp "$SRC/assets/images/$image" "$DEST/assets/images/$image"
done

FONT_STACK="$FONT_STACK" node - "$SRC/govuk-frontend.min.css" "$DEST/govuk-frontend.min.css" <<'JS'
const fs = require("fs");
const [source, target] = process.argv.slice(2);
let css = fs.readFileSync(source, "utf8");
css = css.replace(/\/\*![^*]*exclusive use on gov\.uk[^*]*\*\//g, "");  // the font's licence
css = css.replace(/@font-face\{[^}]*\}/g, "");
css = css.replace(/font-family:GDS Transport,arial,sans-serif/g, `font-family:${process.env.FONT_STACK}`);
css = css.replace(/font-family:GDS Transport/g, `font-family:${process.env.FONT_STACK}`);
css = css.replace(/url\(\/assets\//g, "url(assets/");
css = css.replace(/\/\*# sourceMappingURL=[^*]*\*\//g, "");
for (const bad of ["GDS Transport", "/assets/fonts", "url(/"]) {
  if (css.includes(bad)) {
    console.error(`vendor_assets: '${bad}' is still in the CSS`);
    process.exit(1);
  }
}
fs.writeFileSync(target, css.trimEnd() + "\n");
JS

copy_stripped "$SRC/govuk-frontend.min.js" "$DEST/govuk-frontend.min.js"

cat > "$DEST/README.md" <<README
govuk-frontend $VERSION (MIT licence, https://github.com/alphagov/govuk-frontend), built files
only, copied by scripts/vendor_assets.sh: do not edit by hand. The GDS Transport font is
removed (a system font stack replaces it) and the CSS's /assets/ URLs are made relative.
README
echo "$VERSION" > "$DEST/VERSION"
echo "govuk-frontend $VERSION copied to ${DEST#"$ROOT"/}"

# -- bpmn-js and dmn-js (bpmn.io licence: MIT terms, and the bpmn.io watermark must stay) --

# vendor_bpmn_io NAME VERSION FONT BUNDLE...: the named dist/ bundles, every CSS file in
# dist/assets/, the icon font folder dist/assets/FONT (its CSS and font files, not the copy
# with the fonts embedded as data: URLs, which the CSP refuses), LICENSE, README.md, VERSION.
vendor_bpmn_io() {
  local name="$1" version="$2" font="$3"
  shift 3
  fetch "$name" "$version"
  local pkg="$WORK/$name/package"
  local dest="$VENDOR/$name"
  local bundle css
  rm -rf "$dest"
  mkdir -p "$dest/assets/$font/css" "$dest/assets/$font/font"
  for bundle in "$@"; do
    copy_stripped "$pkg/dist/$bundle" "$dest/$bundle"
  done
  for css in "$pkg"/dist/assets/*.css; do
    copy_stripped "$css" "$dest/assets/$(basename "$css")"
  done
  for css in "$pkg/dist/assets/$font/css"/*.css; do
    case "$css" in *-embedded.css) continue ;; esac
    copy_stripped "$css" "$dest/assets/$font/css/$(basename "$css")"
  done
  cp "$pkg/dist/assets/$font/font"/* "$dest/assets/$font/font/"
  cp "$pkg/LICENSE" "$dest/LICENSE"
  cat > "$dest/README.md" <<README
$name $version (bpmn.io licence: MIT terms, plus the rule that the bpmn.io watermark on
rendered diagrams stays fully visible; see LICENSE and https://bpmn.io/license/), from
https://github.com/bpmn-io/$name. Built files only, copied from the npm package's dist/ by
scripts/vendor_assets.sh (do not edit by hand): $*, assets/.
README
  echo "$version" > "$dest/VERSION"
  echo "$name $version copied to ${dest#"$ROOT"/}"
}

vendor_bpmn_io bpmn-js "$BPMN_JS_VERSION" bpmn-font \
  bpmn-navigated-viewer.production.min.js bpmn-modeler.production.min.js
vendor_bpmn_io dmn-js "$DMN_JS_VERSION" dmn-font dmn-modeler.production.min.js

# -- bpmnlint (MIT), bundled for the browser ------------------------------------------------

# The process owner's editor (web/static/js/owner/) lints the diagram while it is edited with
# bpmnlint's recommended rules. bpmnlint is written for Node (CommonJS), so it is installed
# with its dependencies at pinned versions and bundled once with a pinned esbuild into one
# browser file that sets window.BpmnLint = {Linter, resolver, config, version}: the rules are
# resolved from a static table (no loader at run time), the config extends
# "bpmnlint:recommended". bpmnlint 12 needs @bpmn-io/lint-core, which the registry does not
# serve, so the last 11.x release is used.
BPMNLINT_VERSION=11.15.0
ESBUILD_VERSION=0.28.2
# bpmnlint's dependencies the rules use, pinned too, so a rebuild bundles the same code.
BPMNLINT_UTILS_VERSION=1.1.1
MIN_DASH_VERSION=5.1.0

vendor_bpmnlint() {
  local build="$WORK/bpmnlint-build" dest="$VENDOR/bpmnlint"
  mkdir -p "$build"
  cat > "$build/package.json" <<JSON
{"name": "asb-bpmnlint-bundle", "private": true, "dependencies": {
  "bpmnlint": "$BPMNLINT_VERSION", "bpmnlint-utils": "$BPMNLINT_UTILS_VERSION",
  "min-dash": "$MIN_DASH_VERSION", "esbuild": "$ESBUILD_VERSION"}}
JSON
  (cd "$build" && npm install --silent --no-audit --no-fund --ignore-scripts --save-exact >/dev/null)
  local got
  got="$(node -p "require('$build/node_modules/bpmnlint/package.json').version")"
  if [ "$got" != "$BPMNLINT_VERSION" ]; then
    echo "vendor_assets: npm gave bpmnlint $got, expected $BPMNLINT_VERSION" >&2
    exit 1
  fi
  # The entry point: every rule the recommended config names, in a static table.
  (cd "$build" && node - "$BPMNLINT_VERSION" > entry.js) <<'JS'
const version = process.argv[2];
const recommended = require("bpmnlint/config/recommended");
const names = Object.keys(recommended.rules).sort();
const lines = [
  'const { Linter } = require("bpmnlint");',
  'const StaticResolver = require("bpmnlint/lib/resolver/static-resolver");',
  "const cache = {",
  '  "config:bpmnlint/recommended": require("bpmnlint/config/recommended"),',
  ...names.map((name) => `  "rule:bpmnlint/${name}": require("bpmnlint/rules/${name}"),`),
  "};",
  "window.BpmnLint = {",
  "  Linter,",
  "  resolver: new StaticResolver(cache),",
  '  config: { extends: "bpmnlint:recommended" },',
  `  version: ${JSON.stringify(version)},`,
  "};",
];
process.stdout.write(lines.join("\n") + "\n");
JS
  rm -rf "$dest"
  mkdir -p "$dest"
  (cd "$build" && ./node_modules/.bin/esbuild entry.js --bundle --minify --format=iife \
    --platform=browser --target=es2020 --legal-comments=none --log-level=warning \
    --outfile="$dest/bpmnlint.min.js")
  if grep -q 'sourceMappingURL=' "$dest/bpmnlint.min.js"; then
    echo "vendor_assets: a sourceMappingURL is in the bpmnlint bundle" >&2
    exit 1
  fi
  cp "$build/node_modules/bpmnlint/LICENSE" "$dest/LICENSE"
  cat > "$dest/README.md" <<README
bpmnlint $BPMNLINT_VERSION (MIT licence, https://github.com/bpmn-io/bpmnlint) with its
recommended rules, and what they use (bpmnlint-utils $BPMNLINT_UTILS_VERSION, min-dash
$MIN_DASH_VERSION), bundled for the browser by scripts/vendor_assets.sh with esbuild
$ESBUILD_VERSION into bpmnlint.min.js (do not edit by hand). It sets window.BpmnLint =
{Linter, resolver, config, version}; config extends "bpmnlint:recommended".
README
  echo "$BPMNLINT_VERSION" > "$dest/VERSION"
  echo "bpmnlint $BPMNLINT_VERSION bundled into ${dest#"$ROOT"/}"
}

vendor_bpmnlint
