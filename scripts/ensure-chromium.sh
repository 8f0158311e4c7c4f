#!/usr/bin/env bash
# Browser tests drive Debian's chromium (a test tool's own browser download cannot work offline).
# Installs it when missing and we are root; otherwise says what to do. The e2e tests skip with a
# clear message when no browser is found, except under CI, where they fail.
set -u
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  exit $?
fi
echo "chromium is not installed: run 'sudo apt-get install chromium' to enable the browser tests." >&2
exit 0
