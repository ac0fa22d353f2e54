#!/usr/bin/env bash
# Set up everything the project needs, idempotently: a venv in .venv with the package itself (editable), its
# dependencies and the dev tools (requirements.txt -> pyproject.toml), and Debian's Chromium for the docs-site browser
# test when we may install it.
set -euo pipefail
cd "$(dirname "$0")/.."
export DVC_NO_ANALYTICS=1
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.requirements.sha
want=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt   # the package (editable) + dev tools
  echo "$want" > "$stamp"
fi
# Chromium renders the docs site in tests/test_docs_site.py; install it where we are root and apt exists.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
   && [ -z "${TTSR_NO_APT:-}" ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "warning: could not install chromium; the docs browser test will be skipped" >&2
fi
# The photos the shipped model is trained on (`ttsr-train pretrain`, ttsr.data.photos) come partly from Debian
# wallpaper packages; the list is ttsr.data.photos.debian_packages(). Install them where we are root and apt exists.
photo_pkgs=$(.venv/bin/python -c "from ttsr.data.photos import debian_packages; print(' '.join(debian_packages()))")
missing=$(for p in $photo_pkgs; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ -z "${TTSR_NO_APT:-}" ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null) \
    || echo "warning: could not install $missing; ttsr-train pretrain will name the missing photos" >&2
fi
