#!/usr/bin/env bash
# Renders the README's picture of the TUI (assets/tui.png) from a real run.
#
#   scripts/screenshot.sh [OUTPUT]        (make screenshot; OUTPUT: assets/tui.png)
#
# The release binary runs in a 120x40 tmux pane with the bundled profiles and a few demo
# profiles of a temporary user, whose real instances are running, paused and ended; the
# screen is captured with its colours (tmux capture-pane -e), turned into HTML
# (scripts/terminal-to-html.py) and photographed by headless Chromium. Run as root, it
# all runs as an unprivileged uid (SHOT_UID), as boxtop is meant to.
#
# Needs tmux, python3, chromium and the DejaVu fonts: scripts/install-deps.sh screenshot.
# Environment: BOXTOP_BIN (target/release/boxtop), SHOT_UID (47002), SHOT_SECS (45: how
# long the instances run before the picture, to fill the CPU sparklines).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly OUTPUT=${1:-assets/tui.png}
readonly BOXTOP_BIN=${BOXTOP_BIN:-target/release/boxtop}
readonly SHOT_UID=${SHOT_UID:-47002}
readonly SHOT_SECS=${SHOT_SECS:-45}
readonly COLS=120 ROWS=40
# Profiles listed above firefox, the one the picture selects, are at most this many.
readonly MAX_MOVES=60

die() { printf 'screenshot: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'screenshot: %s\n' "$*"; }

WORK=
RUN_AS=()

tmux_as_user() {
    (cd "$WORK" && "${RUN_AS[@]}" tmux -f /dev/null -S "$WORK/runtime/tmux.sock" "$@")
}

boxtop_as_user() {
    (cd "$WORK" && "${RUN_AS[@]}" "$WORK/bin/boxtop" "$@")
}

cleanup() {
    [[ -n $WORK ]] || return 0
    if [[ -S $WORK/runtime/tmux.sock ]]; then
        tmux_as_user kill-server >/dev/null 2>&1 || true
    fi
    local name
    for name in demo-feeds demo-worker demo-player demo-backup; do
        boxtop_as_user kill "$name" >/dev/null 2>&1 || true
    done
    rm -rf "$WORK" || printf 'screenshot: could not remove %s\n' "$WORK" >&2
}

screen() {
    tmux_as_user capture-pane -p -t shot
}

# Waits until the screen shows the text $1, for at most $2 seconds.
wait_for_screen() {
    local text=$1 deadline=$((SECONDS + $2))
    until screen | grep -qF -- "$text"; do
        if ((SECONDS >= deadline)); then
            screen >&2 || true
            die "the TUI did not show '$text' within $2 s (its screen is above)"
        fi
        sleep 0.2
    done
}

# demo-NAME DESCRIPTION SCRIPT: a user profile running a shell script.
write_profile() {
    local name=$1 description=$2 script=$3
    cat >"$WORK/config/boxtop/profiles/$name.toml" <<EOF
# $name: a demo app for the README's screenshot.
name = "$name"
description = "$description"
command = ["/bin/sh", "-c", "$script"]
display = "none"
network = "none"

[home]
ephemeral = true

[[home.share]]
path = "Documents"
mode = "ro"
EOF
}

main() {
    local chromium tool
    for tool in tmux python3; do
        command -v "$tool" >/dev/null 2>&1 ||
            die "$tool not found: run scripts/install-deps.sh screenshot (make screenshot does)"
    done
    chromium=$(command -v chromium || command -v chromium-browser) ||
        die "chromium not found: run scripts/install-deps.sh screenshot (make screenshot does)"
    [[ -x $BOXTOP_BIN ]] || die "no boxtop binary at $BOXTOP_BIN: run make screenshot, which builds it"

    WORK=$(mktemp -d /tmp/boxtop-shot.XXXXXX)
    trap cleanup EXIT
    mkdir -p "$WORK"/{home/Documents,runtime,data,config/boxtop/profiles,state,cache,bin}
    chmod 700 "$WORK/runtime"
    install -m 755 "$BOXTOP_BIN" "$WORK/bin/boxtop"
    # shellcheck disable=SC2016 # the scripts are for the sandboxed shell to expand
    write_profile demo-feeds "Demo: fetches feeds in bursts" \
        'while :; do i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done; sleep 3; done'
    # shellcheck disable=SC2016
    write_profile demo-worker "Demo: a steady light load" \
        'while :; do i=0; while [ $i -lt 10000 ]; do i=$((i+1)); done; sleep 0.1; done'
    write_profile demo-player "Demo: a player, paused" 'exec sleep 100000'
    write_profile demo-backup "Demo: a backup that ran and ended" 'sleep 2'

    local -a env_vars=(
        PATH=/usr/local/bin:/usr/bin:/bin
        HOME="$WORK/home"
        XDG_RUNTIME_DIR="$WORK/runtime"
        XDG_DATA_HOME="$WORK/data"
        XDG_CONFIG_HOME="$WORK/config"
        XDG_STATE_HOME="$WORK/state"
        XDG_CACHE_HOME="$WORK/cache"
        LANG=C.UTF-8
        SHELL=/bin/sh
    )
    if ((EUID == 0)); then
        command -v setpriv >/dev/null 2>&1 || die "setpriv not found: install util-linux"
        chown -R "$SHOT_UID:$SHOT_UID" "$WORK"
        chmod 755 "$WORK"
        RUN_AS=(setpriv "--reuid=$SHOT_UID" "--regid=$SHOT_UID" --clear-groups --inh-caps=-all
            env -i "${env_vars[@]}")
    else
        RUN_AS=(env -i "${env_vars[@]}")
    fi

    say "starting the demo instances"
    local name
    for name in demo-backup demo-feeds demo-worker demo-player; do
        boxtop_as_user run --detach "$name" >/dev/null || die "could not start $name"
    done
    boxtop_as_user pause demo-player >/dev/null || die "could not pause demo-player"

    say "the TUI in a ${COLS}x$ROWS tmux pane, for $SHOT_SECS s"
    tmux_as_user new-session -d -s shot -x "$COLS" -y "$ROWS" "exec $WORK/bin/boxtop"
    wait_for_screen '┌ Instances' 20
    local moves=0
    until screen | grep -qF '▸ firefox '; do
        ((moves++ < MAX_MOVES)) || die "firefox is not in the list"
        tmux_as_user send-keys -t shot j
        sleep 0.05
    done
    sleep "$SHOT_SECS"
    wait_for_screen 'exited 0' 1
    wait_for_screen 'paused' 1
    tmux_as_user capture-pane -e -p -t shot >"$WORK/screen.ansi"
    tmux_as_user send-keys -t shot q

    say "rendering $OUTPUT"
    python3 scripts/terminal-to-html.py "$COLS" "$ROWS" <"$WORK/screen.ansi" >"$WORK/screen.html"
    local width height
    width=$(grep -o 'data-width="[0-9]*"' "$WORK/screen.html" | tr -dc 0-9)
    height=$(grep -o 'data-height="[0-9]*"' "$WORK/screen.html" | tr -dc 0-9)
    ((EUID == 0)) && chown "$SHOT_UID:$SHOT_UID" "$WORK/screen.html"
    # Twice the pixels, for sharp text on high-density screens.
    (cd "$WORK" && "${RUN_AS[@]}" "$chromium" --headless --disable-gpu --hide-scrollbars \
        --force-device-scale-factor=2 --window-size="$width,$height" \
        --screenshot="$WORK/screen.png" "file://$WORK/screen.html") >"$WORK/chromium.log" 2>&1 ||
        { cat "$WORK/chromium.log" >&2; die "chromium could not take the picture"; }
    [[ -s $WORK/screen.png ]] || { cat "$WORK/chromium.log" >&2; die "chromium wrote no picture"; }
    mkdir -p "$(dirname "$OUTPUT")"
    cp "$WORK/screen.png" "$OUTPUT"
    say "wrote $OUTPUT (${width}x$height CSS pixels at 2x)"
}

main "$@"
