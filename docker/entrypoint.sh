#!/bin/sh
# Runs the container's command as PUID:PGID (default 1000:1000; Unraid passes 99:100) after
# making the data folder theirs: a host folder mounted at /data usually belongs to someone
# else, and the server must write its secret key, index files and SQLite database there.
# Started as another user already (`docker run --user`), it only runs the command.
set -eu
data="${STASHSENSE_DATA_DIR:-/data}"
if [ "$(id -u)" = "0" ]; then
    uid="${PUID:-1000}"
    gid="${PGID:-1000}"
    for value in "$uid" "$gid"; do
        case "$value" in
            '' | *[!0-9]*)
                echo "Environment variables PUID and PGID must be numbers, got '$value'" >&2
                exit 2
                ;;
        esac
    done
    mkdir -p "$data"
    # Also what `docker exec` (root by default) left there since the last start.
    if [ -n "$(find "$data" \( ! -user "$uid" -o ! -group "$gid" \) -print -quit)" ]; then
        chown -R "$uid:$gid" "$data"
    fi
    export HOME=/tmp
    exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"
fi
exec "$@"
