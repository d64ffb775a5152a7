#!/usr/bin/env bash
# Runs Atende's whole test suite on a fresh Debian machine: installs what is
# missing (as root with apt-get; otherwise prints the install line and stops),
# then checks formatting, lints, and runs every test including the real
# headless-Chromium end-to-end tests. A browser test never skips: without
# chromium the run fails.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
# The e-mail tests start a private Dovecot (IMAP) on loopback.
[ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "Missing packages: ${need[*]}"
    echo "Install them with:  sudo apt-get install -y ${need[*]}"
    exit 1
  fi
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --locked --all-targets -- -D warnings
echo "== cargo test"
log=$(mktemp)
set +e
cargo test --locked --tests -- --test-threads=4 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole suite.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "\nsuite: %d passed, %d failed\n", p, f }' "$log"
rm -f "$log"
exit "$status"
