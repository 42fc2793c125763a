#!/bin/sh
# meson test --setup valgrind runs every test through this wrapper:
#
#   valgrind-wrapper.sh VALGRIND VALGRIND-OPTION... -- TEST-COMMAND...
#
# A program of this build runs under memcheck (and so do the programs of
# this build it starts: the emulator, the tke CLI).  Interpreters and system
# tools (the Python and shell tests, pcscd) run as they are: their own
# allocations are not ours to check, and valgrind would drown in them.
set -eu

valgrind=$1
shift
valgrind_args=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  valgrind_args="$valgrind_args $1"
  shift
done
[ $# -gt 0 ] && shift

case "$1" in
  /usr/* | /bin/* | /sbin/* | /lib/*) exec "$@" ;;
esac
if [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" != '177ELF' ]; then
  exec "$@"
fi

# shellcheck disable=SC2086 # one word per option, none has a space
exec "$valgrind" $valgrind_args "$@"
