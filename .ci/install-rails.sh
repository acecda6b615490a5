#!/bin/sh
# Installs what tests/integration/rails_cable needs: Debian's Rails (with ActionCable), puma and
# sqlite3 for Ruby. Idempotent and quiet: does nothing when every package is already installed.
set -eu

packages="ruby-rails puma ruby-sqlite3"
missing=""
for package in $packages; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $package"
  fi
done

if [ -z "$missing" ]; then
  echo "install-rails: already installed:$(printf ' %s' $packages)"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi

echo "install-rails: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
# shellcheck disable=SC2086  # the package list is meant to split
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
ruby -e 'require "rails"; require "action_cable"; puts "install-rails: Rails #{Rails.version}, ActionCable ready"'
