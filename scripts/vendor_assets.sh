#!/usr/bin/env bash
# Fetch the pinned govuk-frontend release with `npm pack` and copy its built CSS, JS and the
# images its CSS needs into web/static/vendor/govuk-frontend/. Run it when the pin changes and
# commit the result: the product itself installs and runs with pip alone (no node_modules).
#
# The GDS Transport typeface is for GOV.UK only, so its @font-face rules are removed and the
# font stack is replaced with system fonts; the CSS's absolute /assets/ URLs become relative.
set -euo pipefail

VERSION=6.3.0
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/web/static/vendor/govuk-frontend"
FONT_STACK='system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif'

command -v npm >/dev/null || { echo "vendor_assets: npm is needed to fetch govuk-frontend" >&2; exit 1; }
command -v node >/dev/null || { echo "vendor_assets: node is needed to post-process the CSS" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

npm pack --silent --pack-destination "$WORK" "govuk-frontend@$VERSION" >/dev/null
tar -xzf "$WORK/govuk-frontend-$VERSION.tgz" -C "$WORK"
PKG="$WORK/package"
SRC="$PKG/dist/govuk"

got="$(node -p "require('$PKG/package.json').version")"
if [ "$got" != "$VERSION" ]; then
  echo "vendor_assets: npm gave govuk-frontend $got, expected $VERSION" >&2
  exit 1
fi

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

sed -e '/sourceMappingURL=/s#//\# sourceMappingURL=.*$##' "$SRC/govuk-frontend.min.js" \
  > "$DEST/govuk-frontend.min.js"

cat > "$DEST/README.md" <<EOF
govuk-frontend $VERSION (MIT licence, https://github.com/alphagov/govuk-frontend), built files
only, copied by scripts/vendor_assets.sh: do not edit by hand. The GDS Transport font is
removed (a system font stack replaces it) and the CSS's /assets/ URLs are made relative.
EOF
echo "$VERSION" > "$DEST/VERSION"
echo "govuk-frontend $VERSION copied to ${DEST#"$ROOT"/}"
