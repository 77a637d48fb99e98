#!/bin/sh
# Installs the Debian packages named as arguments that are missing (as root),
# or prints the command that would and fails.
missing=""
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "make deps: missing Debian packages:$missing" >&2
    echo "make deps: run as root: apt-get install -y$missing" >&2
    exit 1
fi
echo "make deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing
