#!/usr/bin/env bash
# Installs the system packages the tests and the demo need on a Debian machine:
# a JDK 17+ and the real servers the integration tests run against.
set -euo pipefail

# pebble brings pebble-challtestsrv; bind9 and pdns-* are real DNS servers for the dns-01 tests;
# nginx serves the webroot in the http-01 tests.
packages=(pebble bind9 bind9-utils pdns-server pdns-backend-sqlite3 sqlite3 nginx-light)
command -v java >/dev/null 2>&1 || packages+=(openjdk-17-jdk-headless)
command -v curl >/dev/null 2>&1 || command -v wget >/dev/null 2>&1 || packages+=(curl)
command -v unzip >/dev/null 2>&1 || packages+=(unzip)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
