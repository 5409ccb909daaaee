#!/usr/bin/env bash
# Refresh _vendor/: the JavaScript the HTML book serves itself so that it reads offline
# (MathJax 3, RequireJS and the ipywidgets HTML manager). Needs npm; learners never run this,
# the files are committed. Versions are pinned here; change them, run this, rebuild, commit.
set -euo pipefail
cd "$(dirname "$0")/.."
MATHJAX=mathjax@3.2.2
REQUIREJS=requirejs@2.3.7
HTML_MANAGER=@jupyter-widgets/html-manager@1.0.14
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$MATHJAX" "$REQUIREJS" "$HTML_MANAGER" >/dev/null)
for f in "$tmp"/*.tgz; do mkdir -p "${f%.tgz}"; tar xzf "$f" -C "${f%.tgz}"; done
rm -rf _vendor && mkdir -p _vendor/mathjax/output/chtml/fonts _vendor/mathjax/a11y _vendor/html-manager
mj="$tmp"/mathjax-3.2.2/package
cp "$mj"/es5/tex-chtml-full.js "$mj"/LICENSE _vendor/mathjax/
cp -r "$mj"/es5/output/chtml/fonts/woff-v2 _vendor/mathjax/output/chtml/fonts/
cp "$mj"/es5/a11y/*.js _vendor/mathjax/a11y/
cp "$tmp"/requirejs-2.3.7/package/require.js _vendor/require.js
hm="$tmp"/jupyter-widgets-html-manager-1.0.14/package
cp "$hm"/dist/embed-amd.js "$hm"/dist/*.woff2 "$hm"/dist/*.woff "$hm"/LICENSE _vendor/html-manager/
echo "_vendor/ refreshed: $(du -sh _vendor | cut -f1)"
