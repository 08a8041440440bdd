#!/usr/bin/env bash
# Benchmarks boxtop against its peers and records the results in docs/benchmarks.md.
#
#   scripts/bench.sh [BENCHMARK...]      BENCHMARK: launch, status, profiles, tui, refresh,
#                                        soak, live, apps (default: all)
#
# Each benchmark is a function bench_NAME listed in BENCHMARKS. It times its commands in
# one hyperfine run (raw results kept in target/bench/NAME.json) and writes one section
# of docs/benchmarks.md, found by its exact '## ' heading. The script replaces only the
# sections of the benchmarks it runs: the text above the first heading and every other
# section are kept as they are, so notes written by hand survive a run, and a new
# benchmark's section is appended the first time it runs.
#
# All commands run with their own temporary HOME and XDG directories. Run as root, the
# script times them as an unprivileged uid (BENCH_UID), so that boxtop and bubblewrap
# are measured as a user would run them: rootless.
#
# Environment: BOXTOP_BIN (target/release/boxtop), BENCH_DOC (docs/benchmarks.md),
# BENCH_RUNS (200), BENCH_WARMUP (20), BENCH_ROUNDS (10, launch), BENCH_UID (47001), BENCH_INSTANCES (100, status),
# BENCH_PROFILES (1000, profiles),
# BENCH_TUI_PROFILES (500), BENCH_TUI_INSTANCES (20), BENCH_TUI_IDLE_SECS (60),
# BENCH_HOST_PROCESSES (5000, refresh), BENCH_REFRESH_INSTANCES (100), BENCH_REFRESH_RUNS (60),
# BENCH_REFRESH_IDLE_SECS (20), BENCH_SOAK_SECS (180), BENCH_SOAK_PROFILES (20),
# BENCH_SOAK_REFRESH (0.2, the TUI's --refresh during the soak), BENCH_LIVE_RUNS (30),
# BENCH_APP_RUNS (5, apps; browsers 3), BENCH_APPS (mousepad firefox-esr chromium).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly BENCHMARKS=(launch status profiles tui refresh soak live apps)

readonly BOXTOP_BIN=${BOXTOP_BIN:-target/release/boxtop}
readonly BENCH_DOC=${BENCH_DOC:-docs/benchmarks.md}
readonly RUNS=${BENCH_RUNS:-200}
readonly WARMUP=${BENCH_WARMUP:-20}
readonly ROUNDS=${BENCH_ROUNDS:-10}
readonly BENCH_UID=${BENCH_UID:-47001}
readonly RESULTS_DIR=target/bench
readonly MINIMAL_PROFILE=benches/minimal.toml
readonly SLEEPER_PROFILE=benches/sleeper.toml
readonly STATUS_INSTANCES=${BENCH_INSTANCES:-100}
readonly PROFILE_COUNT=${BENCH_PROFILES:-1000}
readonly TUI_PROFILES=${BENCH_TUI_PROFILES:-500}
readonly TUI_INSTANCES=${BENCH_TUI_INSTANCES:-20}
readonly TUI_IDLE_SECS=${BENCH_TUI_IDLE_SECS:-60}
readonly HOST_PROCESSES=${BENCH_HOST_PROCESSES:-5000}
readonly REFRESH_INSTANCES=${BENCH_REFRESH_INSTANCES:-100}
readonly REFRESH_RUNS=${BENCH_REFRESH_RUNS:-60}
readonly REFRESH_IDLE_SECS=${BENCH_REFRESH_IDLE_SECS:-20}
readonly SOAK_SECS=${BENCH_SOAK_SECS:-180}
readonly SOAK_PROFILES=${BENCH_SOAK_PROFILES:-20}
readonly SOAK_REFRESH=${BENCH_SOAK_REFRESH:-0.2}
readonly LIVE_RUNS=${BENCH_LIVE_RUNS:-30}
readonly APP_RUNS=${BENCH_APP_RUNS:-5}
read -r -a APPS <<<"${BENCH_APPS:-mousepad firefox-esr chromium}"
readonly APPS

die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'bench: %s\n' "$*"; }

# ---------------------------------------------------------------------------------------
# The environment the timed commands run in.

WORK=          # temporary directory: home, XDG directories, copies of boxtop and profile
RUNTIME=       # the XDG_RUNTIME_DIR, on a tmpfs like a session's
RUN_AS=()      # prefix that runs a command as the measured user in a clean environment
RUN_AS_NOTE=   # how that user was obtained, for the report
CROWD_PGID=    # process group of the unrelated host processes of the refresh benchmark
APPS_PIDS=()   # Xvfb and the session bus of the apps benchmark
ADDED_USER=    # the passwd entry made for the measured uid (firejail needs one), removed

cleanup() {
    stop_crowd
    local pid
    for pid in "${APPS_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    if [[ -n $ADDED_USER ]]; then
        # userdel refuses while a process of the user runs: the ones killed above end first.
        local tries=0
        while pgrep -u "$BENCH_UID" >/dev/null 2>&1 && ((tries++ < 50)); do sleep 0.1; done
        userdel "$ADDED_USER" 2>/dev/null || printf 'bench: could not remove the user %s\n' "$ADDED_USER" >&2
    fi
    if [[ -n $WORK && -S $WORK/runtime/tmux.sock ]]; then
        tmux_as_user kill-server >/dev/null 2>&1 || true
    fi
    if [[ -n $WORK && -x $WORK/bin/boxtop ]]; then
        # Instances left by a benchmark stopped half-way would keep $WORK busy.
        (cd "$WORK" && "${RUN_AS[@]}" "$WORK/bin/boxtop" kill bench-sleeper >/dev/null 2>&1) || true
        local app
        for app in "${APPS[@]}"; do
            (cd "$WORK" && "${RUN_AS[@]}" "$WORK/bin/boxtop" kill "$app" >/dev/null 2>&1) || true
        done
        local i
        for ((i = 0; i < SOAK_PROFILES; i++)); do
            (cd "$WORK" && "${RUN_AS[@]}" "$WORK/bin/boxtop" kill "$(soak_profile "$i")" >/dev/null 2>&1) || true
        done
    fi
    local dir
    for dir in "$WORK" "$RUNTIME"; do
        if [[ -n $dir ]]; then
            rm -rf "$dir" || printf 'bench: could not remove %s\n' "$dir" >&2
        fi
    done
}

prepare_environment() {
    local tool
    for tool in hyperfine bwrap jq; do
        command -v "$tool" >/dev/null 2>&1 ||
            die "$tool not found: run scripts/install-deps.sh bench (make bench does)"
    done
    [[ -x $BOXTOP_BIN ]] || die "no boxtop binary at $BOXTOP_BIN: run make bench, which builds it"

    # /tmp rather than TMPDIR: the measured uid must reach it, and hyperfine -N splits
    # commands on spaces, so the path must not have any.
    WORK=$(mktemp -d /tmp/boxtop-bench.XXXXXX)
    trap cleanup EXIT
    mkdir -p "$WORK"/{home,private-home,data,config,state,cache,bin,runtime}
    chmod 700 "$WORK/runtime"
    # XDG_RUNTIME_DIR is /run/user/UID on a tmpfs in a desktop session: the same when the
    # script can make it, else a folder on /dev/shm (also a tmpfs).
    if ((EUID == 0)) && [[ ! -e /run/user/$BENCH_UID ]] && mkdir -p /run/user 2>/dev/null &&
        mkdir "/run/user/$BENCH_UID" 2>/dev/null; then
        RUNTIME=/run/user/$BENCH_UID
    else
        RUNTIME=$(mktemp -d /dev/shm/boxtop-bench.XXXXXX 2>/dev/null || mktemp -d /tmp/boxtop-bench-run.XXXXXX)
    fi
    chmod 700 "$RUNTIME"
    install -m 755 "$BOXTOP_BIN" "$WORK/bin/boxtop"
    install -m 644 "$MINIMAL_PROFILE" "$WORK/bin/minimal.toml"
    install -m 644 "$SLEEPER_PROFILE" "$WORK/bin/sleeper.toml"

    local -a env_vars=(
        PATH=/usr/local/bin:/usr/bin:/bin
        # A login session sets USER; without it boxtop looks the name up through NSS.
        USER=bench
        LOGNAME=bench
        HOME="$WORK/home"
        XDG_RUNTIME_DIR="$RUNTIME"
        XDG_DATA_HOME="$WORK/data"
        XDG_CONFIG_HOME="$WORK/config"
        XDG_STATE_HOME="$WORK/state"
        XDG_CACHE_HOME="$WORK/cache"
        LANG=C.UTF-8
        TERM="${TERM:-dumb}"
    )
    if ((EUID == 0)); then
        command -v setpriv >/dev/null 2>&1 || die "setpriv not found: install util-linux"
        chown -R "$BENCH_UID:$BENCH_UID" "$WORK" "$RUNTIME"
        chmod 755 "$WORK"
        RUN_AS=(setpriv "--reuid=$BENCH_UID" "--regid=$BENCH_UID" --clear-groups --inh-caps=-all
            env -i "${env_vars[@]}")
        RUN_AS_NOTE="as uid $BENCH_UID (the script ran as root and dropped to it with setpriv)"
    else
        RUN_AS=(env -i "${env_vars[@]}")
        RUN_AS_NOTE="as uid $EUID"
    fi
}

# Runs a command once as the measured user, so that a broken command is reported with
# its own error rather than as a hyperfine failure.
check_command() {
    local name=$1 command=$2 output status=0
    # shellcheck disable=SC2086 # the command is split on spaces, as hyperfine -N does
    output=$(cd "$WORK" && "${RUN_AS[@]}" $command 2>&1) || status=$?
    if ((status != 0)); then
        printf 'bench: %s failed (exit %d) before timing:\n  %s\n%s\n' \
            "$name" "$status" "$command" "${output:-(no output)}" >&2
        exit 1
    fi
}

# Checks each name/command pair and appends hyperfine's --command-name arguments for it
# to the caller's array named by the first argument.
command_args() {
    local -n out_ref=$1
    shift
    while (($# > 0)); do
        check_command "$1" "$2"
        out_ref+=(--command-name "$1" "$2")
        shift 2
    done
}

# Times name/command pairs in one hyperfine run and writes the JSON to the given file.
run_hyperfine() {
    local json=$1
    shift
    local -a args=()
    command_args args "$@"
    (cd "$WORK" && "${RUN_AS[@]}" hyperfine -N --warmup "$WARMUP" --runs "$RUNS" \
        --time-unit millisecond --export-json "$WORK/hyperfine.json" "${args[@]}")
    mkdir -p "$(dirname "$json")"
    cp "$WORK/hyperfine.json" "$json"
}

# Like run_hyperfine, in ROUNDS rounds of RUNS/ROUNDS runs of each command, the rounds one
# after another, so that a drift of a shared machine during the benchmark (seen on the
# 2-core VMs: the same command a millisecond slower for a minute) touches every command
# alike; the rounds' times are merged into one hyperfine-like file with each command's
# mean, standard deviation and median over all its runs.
run_hyperfine_rounds() {
    local json=$1
    shift
    local -a args=()
    command_args args "$@"
    # A caller may set HYPERFINE_RUNS and HYPERFINE_WARMUP (locals of its own) instead.
    local runs=${HYPERFINE_RUNS:-$RUNS} first_warmup=${HYPERFINE_WARMUP:-$WARMUP}
    local per=$(((runs + ROUNDS - 1) / ROUNDS)) round warmup
    for ((round = 1; round <= ROUNDS; round++)); do
        warmup=$((round == 1 ? first_warmup : 3))
        (cd "$WORK" && "${RUN_AS[@]}" hyperfine -N --warmup "$warmup" --runs "$per" \
            --time-unit millisecond --export-json "$WORK/round-$round.json" "${args[@]}") \
            >/dev/null || die "hyperfine failed in round $round"
    done
    mkdir -p "$(dirname "$json")"
    jq -s '{results: [range(0; .[0].results | length) as $k
        | [.[].results[$k]] as $rs
        | ($rs | map(.times) | add) as $t
        | ($t | add / length) as $mean
        | {command: $rs[0].command, times: $t, mean: $mean,
           stddev: ((($t | map((. - $mean) * (. - $mean)) | add) / (($t | length) - 1)) | sqrt),
           median: ($t | sort | .[(length / 2 | floor)]),
           user: ($rs | map(.user) | add / length),
           system: ($rs | map(.system) | add / length)}]}' \
        "$WORK"/round-*.json >"$json"
}

# Reads a hyperfine JSON file into two associative arrays of the caller, keyed by command
# name: the means in ms, and either the standard deviations (stddev) or the CPU time,
# user + system (cpu), in ms.
#   load_results FILE MEANS SECONDS stddev|cpu
load_results() {
    local json=$1 second=$4
    local -n means_ref=$2 seconds_ref=$3
    local expression
    case $second in
        stddev) expression='.stddev' ;;
        median) expression='.median' ;;
        cpu) expression='(.user + .system)' ;;
        *) die "load_results: unknown column $second" ;;
    esac
    local name m s
    # shellcheck disable=SC2004,SC2034 # associative arrays of the caller, by reference
    while IFS=$'\t' read -r name m s; do
        means_ref[$name]=$m
        seconds_ref[$name]=$s
    done < <(jq -r ".results[] | [.command, .mean * 1000, $expression * 1000] | @tsv" "$json")
}

# Shows a command as it ran, with the temporary directory named $BENCH_DIR.
show_command() {
    printf '%s\n' "${1//"$WORK"/\$BENCH_DIR}"
}

host_summary() {
    local cpu
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    printf '%s %s (%s), %s x %s' "$(uname -s)" "$(uname -r)" "$(uname -m)" "$(nproc)" "${cpu:-unknown CPU}"
}

# ---------------------------------------------------------------------------------------
# docs/benchmarks.md

# shellcheck disable=SC2016 # the backquotes are Markdown
readonly DOC_PREAMBLE='# Benchmarks

Written by `scripts/bench.sh` (run it with `make bench`, which builds the release binary
first). Each `##` section belongs to one benchmark and is replaced when that benchmark
runs again; the raw hyperfine results are in `target/bench/`. Text above the first
section, and sections the script does not write, are kept as they are.'

# Replaces the section that starts with the line $1 (up to the next '## ' line) with the
# contents of file $2, which starts with that same line; appends it if there is none.
write_section() {
    local heading=$1 body=$2 merged
    mkdir -p "$(dirname "$BENCH_DOC")"
    if [[ ! -s $BENCH_DOC ]]; then
        printf '%s\n' "$DOC_PREAMBLE" >"$BENCH_DOC"
    fi
    merged=$(awk -v heading="$heading" -v body="$body" '
        function emit(   line) {
            while ((getline line < body) > 0) { print line; last = line }
            close(body)
            written = 1
        }
        $0 == heading { emit(); skipping = 1; next }
        skipping && /^## / { skipping = 0; print "" }
        !skipping { print; last = $0 }
        END { if (!written) { if (last != "") print ""; emit() } }
    ' "$BENCH_DOC")
    printf '%s\n' "$merged" >"$BENCH_DOC"
}

# ---------------------------------------------------------------------------------------
# Benchmarks: one function each, writing its own section.

# A bash script that runs /bin/true in bubblewrap with the plan boxtop makes for the
# minimal profile (`boxtop plan`, $1), step by step: the same namespaces, binds,
# symlinks, folders, tmpfs mounts, /proc and /dev, the files boxtop copies or writes
# (bwrap's --file, from descriptors the script opens; written files as stand-ins of the
# same size), the read-only root and boxtop's own seccomp filter ($2, on fd 3).
bwrap_script_from_plan() {
    local plan=$1 filter=$2 files=$WORK/bwrap-files
    local -a args=(bwrap --unshare-user --unshare-pid --unshare-ipc --unshare-uts --unshare-net
        --unshare-cgroup --die-with-parent --new-session)
    local -a redirections=("3<$filter")
    local fd=4 kind rest dest src mode size
    mkdir -p "$files"
    while read -r kind rest; do
        case $kind in
        hostname) args+=(--hostname "$rest") ;;
        bind-ro | bind-rw)
            dest=${rest%% <- *}
            src=${rest#* <- }
            src=${src%% (*}
            [[ $dest == /dev/* ]] && continue # bwrap's --dev binds the same nodes
            if [[ $kind == bind-ro ]]; then
                args+=(--ro-bind "$src" "$dest")
            else
                args+=(--bind "$src" "$dest")
            fi
            ;;
        symlink)
            dest=${rest%% -> *}
            [[ $dest == /dev/* ]] && continue
            args+=(--symlink "${rest#* -> }" "$dest")
            ;;
        tmpfs)
            # tmpfs DEST mode=MODE size=SIZE nr_inodes=N (SIZE: bytes, or K, M, G)
            dest=${rest%% *}
            mode=${rest##*mode=}
            mode=${mode%% *}
            size=${rest##*size=}
            size=${size%% *}
            case $size in
            *K) size=$((${size%K} << 10)) ;;
            *M) size=$((${size%M} << 20)) ;;
            *G) size=$((${size%G} << 30)) ;;
            esac
            if [[ $dest == /dev ]]; then
                args+=(--dev /dev)
            elif [[ $dest != /dev/* ]]; then
                args+=(--perms "$mode" --size "$size" --tmpfs "$dest")
            fi
            ;;
        dir) args+=(--perms "${rest##*mode=}" --dir "${rest%% *}") ;;
        proc) args+=(--proc /proc) ;; # with the same read-only covers as boxtop's
        copy)
            dest=${rest%% <- *}
            src=${rest#* <- }
            src=${src%% mode=*}
            args+=(--perms "${rest##*mode=}" --file "$fd" "$dest")
            redirections+=("$fd<$src")
            fd=$((fd + 1))
            ;;
        file)
            dest=${rest%% *}
            mode=${rest#*mode=}
            mode=${mode%% *}
            size=${rest##*(}
            size=${size%% *}
            head -c "$size" /dev/zero >"$files/$fd"
            args+=(--perms "$mode" --file "$fd" "$dest")
            redirections+=("$fd<$files/$fd")
            fd=$((fd + 1))
            ;;
        read-only) [[ $rest == / ]] && args+=(--remount-ro /) ;;
        esac
    done <"$plan"
    args+=(--seccomp 3 /bin/true)
    printf 'exec %s %s\n' "${args[*]}" "${redirections[*]}"
}

bench_launch() {
    local heading='## Launch: boxtop run vs bubblewrap'
    local json=$RESULTS_DIR/launch.json
    local bare_command=/bin/true boxtop_command bpf
    boxtop_command="$WORK/bin/boxtop run --profile-file $WORK/bin/minimal.toml -- /bin/true"

    # bubblewrap gets boxtop's own seccomp filter, as Flatpak gives it one: the same
    # isolation includes the filter. boxtop keeps its compiled filter in the runtime
    # folder; bwrap reads it from fd 3, which a shell script opens (hyperfine -N cannot
    # redirect), so its overhead is measured against the same script running /bin/true.
    check_command boxtop "$boxtop_command"
    bpf=$(find "$RUNTIME/boxtop" -name 'seccomp-*.bpf' | head -n 1)
    [[ -n $bpf ]] || die "boxtop left no compiled seccomp filter in $RUNTIME/boxtop"
    cp "$bpf" "$WORK/bin/filter.bpf"
    (cd "$WORK" && "${RUN_AS[@]}" "$WORK/bin/boxtop" plan --profile-file "$WORK/bin/minimal.toml") \
        >"$WORK/plan.txt" || die "boxtop plan failed"
    printf 'exec /bin/true\n' >"$WORK/bin/bare.sh"
    bwrap_script_from_plan "$WORK/plan.txt" "$WORK/bin/filter.bpf" >"$WORK/bin/bwrap.sh"
    if ((EUID == 0)); then
        chown -R "$BENCH_UID:$BENCH_UID" "$WORK/bin" "$WORK/bwrap-files"
    fi
    # For reference, the sandbox most bubblewrap comparisons use: no /etc, no files.
    printf 'exec bwrap --unshare-user --unshare-pid --unshare-ipc --unshare-uts --unshare-net --unshare-cgroup --die-with-parent --new-session --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64 --proc /proc --dev /dev --tmpfs /tmp --tmpfs /run --seccomp 3 /bin/true 3<%s\n' \
        "$WORK/bin/filter.bpf" >"$WORK/bin/bwrap-minimal.sh"
    if ((EUID == 0)); then
        chown "$BENCH_UID:$BENCH_UID" "$WORK/bin/bwrap-minimal.sh"
    fi
    local sh_bare_command="/bin/bash $WORK/bin/bare.sh" bwrap_command="/bin/bash $WORK/bin/bwrap.sh"
    local bwrap_minimal_command="/bin/bash $WORK/bin/bwrap-minimal.sh"

    say "launch: timing /bin/true bare, in bubblewrap and in boxtop ($RUNS runs each, in $ROUNDS rounds)"
    run_hyperfine_rounds "$json" bare "$bare_command" sh-bare "$sh_bare_command" \
        bwrap "$bwrap_command" bwrap-minimal "$bwrap_minimal_command" boxtop "$boxtop_command"

    local -A mean=() stddev=() median=() unused=()
    load_results "$json" mean stddev stddev
    load_results "$json" unused median median

    local body=$WORK/launch.md
    awk -v bare="${median[bare]}" -v bare_mean="${mean[bare]}" -v bare_sd="${stddev[bare]}" \
        -v sh_bare="${median[sh-bare]}" -v sh_bare_mean="${mean[sh-bare]}" -v sh_bare_sd="${stddev[sh-bare]}" \
        -v bwrap="${median[bwrap]}" -v bwrap_mean="${mean[bwrap]}" -v bwrap_sd="${stddev[bwrap]}" \
        -v bwrap_min="${median[bwrap-minimal]}" -v bwrap_min_mean="${mean[bwrap-minimal]}" -v bwrap_min_sd="${stddev[bwrap-minimal]}" \
        -v boxtop="${median[boxtop]}" -v boxtop_mean="${mean[boxtop]}" -v boxtop_sd="${stddev[boxtop]}" \
        -v rounds="$ROUNDS" \
        -v heading="$heading" -v date="$(date -u +%Y-%m-%d)" -v host="$(host_summary)" \
        -v bwrap_version="$(bwrap --version)" -v hyperfine_version="$(hyperfine --version)" \
        -v runs="$RUNS" -v warmup="$WARMUP" -v user="$RUN_AS_NOTE" \
        -v show_bwrap="$(show_command "$(cat "$WORK/bin/bwrap.sh")")" \
        -v show_boxtop="$(show_command "$boxtop_command")" '
        BEGIN {
            bwrap_over = bwrap - sh_bare
            bwrap_min_over = bwrap_min - sh_bare
            boxtop_over = boxtop - bare
            if (bwrap_over > 0) {
                ratio = sprintf("%.2f", boxtop_over / bwrap_over)
                verdict = (boxtop_over / bwrap_over <= 1.0) ? "met" : "not met"
            } else {
                ratio = "n/a (bubblewrap showed no overhead)"
                verdict = "not evaluated"
            }
            print heading
            print ""
            printf "Measured %s on %s, with %s and %s: %d runs of each command in %d rounds (each round runs every command in turn, so that a drift of the machine touches all alike) after %d warmup runs, %s, each with its own temporary HOME and XDG directories.\n", date, host, bwrap_version, hyperfine_version, runs, rounds, warmup, user
            print ""
            print "Each command starts `/bin/true`; overhead is its median minus the median of the same start without a sandbox (medians, since a shared VM adds rare long outliers that move means by tenths of a millisecond). bubblewrap is given boxtop'"'"'s own plan for the profile step by step (`boxtop plan`: namespaces, binds, symlinks, folders, tmpfs mounts, /proc and /dev, the files boxtop copies or writes, the read-only root) and boxtop'"'"'s seccomp filter; a bash script opens the descriptors bwrap reads them from, so bubblewrap'"'"'s overhead is counted against that script running `/bin/true`."
            print ""
            print "| Command | Median (ms) | Mean ± σ (ms) | Overhead (ms) |"
            print "| --- | ---: | ---: | ---: |"
            printf "| bare `/bin/true` | %.3f | %.3f ± %.3f | |\n", bare, bare_mean, bare_sd
            printf "| bash script running `/bin/true` | %.3f | %.3f ± %.3f | |\n", sh_bare, sh_bare_mean, sh_bare_sd
            printf "| bubblewrap with boxtop'"'"'s plan and filter (from the script) | %.3f | %.3f ± %.3f | %.3f |\n", bwrap, bwrap_mean, bwrap_sd, bwrap_over
            printf "| bubblewrap, minimal sandbox: no /etc, no files (from the script) | %.3f | %.3f ± %.3f | %.3f |\n", bwrap_min, bwrap_min_mean, bwrap_min_sd, bwrap_min_over
            printf "| `boxtop run`, benches/minimal.toml | %.3f | %.3f ± %.3f | %.3f |\n", boxtop, boxtop_mean, boxtop_sd, boxtop_over
            print ""
            printf "Overhead ratio, boxtop / bubblewrap: **%s**. Goal: ratio <= 1.0: **%s**.\n", ratio, verdict
            print ""
            printf "For reference, against the minimal bubblewrap sandbox (a smaller job than boxtop'"'"'s): %.2f.\n", (bwrap_min_over > 0) ? boxtop_over / bwrap_min_over : 0
            print ""
            print "Commands (`$BENCH_DIR` is the temporary directory):"
            print ""
            print "```"
            print "/bin/true"
            print show_bwrap
            print show_boxtop
            print "```"
        }' >"$body"

    write_section "$heading" "$body"
    echo
    cat "$body"
}

# Generates 1000 valid user profiles (a quarter extending a bundled or an earlier one)
# and times loading and validating them all: `boxtop check` (every bundled and user
# profile, resolved through `extends` and validated) and `boxtop list --json`.
bench_profiles() {
    local heading='## Profiles: loading and validating 1000 profiles'
    local json=$RESULTS_DIR/profiles.json
    local dir=$WORK/config/boxtop/profiles i kind
    mkdir -p "$dir"
    for ((i = 0; i < PROFILE_COUNT; i++)); do
        kind=$((i % 4))
        {
            printf 'name = "gen-%04d"\ndescription = "generated profile %d"\n' "$i" "$i"
            case $kind in
            0) printf 'extends = "base-browser"\nnetwork = "none"\n' ;;
            1) printf 'command = ["/usr/bin/app-%d", "--flag"]\ndisplay = "x11"\naudio = "pulseaudio"\n' "$i" ;;
            2) printf 'command = ["/bin/true"]\nnetwork = "isolated"\ngpu = true\n[env]\nLANG = "C.UTF-8"\n' ;;
            3) printf 'extends = "gen-%04d"\nwebcam = true\n' "$((i - 2))" ;;
            esac
            printf '[home]\n[[home.share]]\npath = "Documents/gen-%d"\nmode = "ro"\n' "$i"
            printf '[dbus]\ntalk = ["org.example.App%d"]\n[limits]\nmemory = "1G"\npids = 256\n' "$i"
        } >"$dir/gen-$(printf '%04d' "$i").toml"
    done
    if ((EUID == 0)); then
        chown -R "$BENCH_UID:$BENCH_UID" "$WORK/config"
    fi
    local check_command="$WORK/bin/boxtop check" list_command="$WORK/bin/boxtop list --json"
    local checked
    # shellcheck disable=SC2086 # the command is split on spaces, as hyperfine -N does
    checked=$(cd "$WORK" && "${RUN_AS[@]}" $check_command | grep -c '^ok ') ||
        die "boxtop check found errors in the generated profiles"
    say "profiles: $checked profiles valid; timing check and list ($RUNS runs each)"
    run_hyperfine "$json" check "$check_command" list "$list_command"

    local -A mean=() stddev=()
    load_results "$json" mean stddev stddev

    local body=$WORK/profiles.md
    awk -v heading="$heading" -v date="$(date -u +%Y-%m-%d)" -v host="$(host_summary)" \
        -v n="$checked" -v generated="$PROFILE_COUNT" -v runs="$RUNS" -v warmup="$WARMUP" \
        -v user="$RUN_AS_NOTE" -v check="${mean[check]}" -v check_sd="${stddev[check]}" \
        -v list="${mean[list]}" -v list_sd="${stddev[list]}" '
        BEGIN {
            print heading
            print ""
            printf "Measured %s on %s: %d generated user profiles (a quarter extending a bundled or an earlier one; shares, D-Bus names, limits) beside the bundled ones, %d profiles in all, %d runs of each command after %d warmup runs, %s.\n", date, host, generated, n, runs, warmup, user
            print ""
            print "`boxtop check` reads every file, parses it, resolves `extends` and validates each profile; `boxtop list` does the same and also looks for each app on this machine and rates its risk."
            print ""
            print "| Command | Mean ± σ (ms) |"
            print "| --- | ---: |"
            printf "| `boxtop check` | %.3f ± %.3f |\n", check, check_sd
            printf "| `boxtop list --json` | %.3f ± %.3f |\n", list, list_sd
            print ""
            printf "Loading and validating %d profiles: **%.1f ms**. Goal: under 50 ms: **%s**.\n", n, check, (check < 50) ? "met" : "not met"
        }' >"$body"

    write_section "$heading" "$body"
    echo
    cat "$body"
}

# Starts STATUS_INSTANCES sleeping instances, then times one status refresh
# (`boxtop ps --json --interval 0`: process start, state files, one /proc pass) against
# `ps -e`, wall time and CPU time. Without a delegated cgroup (the usual case for the
# measured uid) every instance is found by its pid namespace: the slower path.
bench_status() {
    local heading='## Status: boxtop ps with running instances vs ps -e'
    local json=$RESULTS_DIR/status.json
    local boxtop="$WORK/bin/boxtop" i
    say "status: starting $STATUS_INSTANCES instances of benches/sleeper.toml"
    for ((i = 0; i < STATUS_INSTANCES; i++)); do
        (cd "$WORK" && "${RUN_AS[@]}" "$boxtop" run --detach --profile-file "$WORK/bin/sleeper.toml" >/dev/null) ||
            die "could not start instance $i"
    done
    local running
    running=$(cd "$WORK" && "${RUN_AS[@]}" "$boxtop" ps --json --interval 0 |
        jq '[.instances[] | select(.state.state == "running")] | length')
    ((running == STATUS_INSTANCES)) || die "$running of $STATUS_INSTANCES instances are running"

    local ps_command="$boxtop ps --json --interval 0"
    say "status: timing a refresh with $running instances against ps -e ($RUNS runs each)"
    run_hyperfine "$json" boxtop-ps "$ps_command" ps-e "ps -e"
    (cd "$WORK" && "${RUN_AS[@]}" "$boxtop" kill bench-sleeper >/dev/null) ||
        say "status: could not kill every instance"

    local -A mean=() cpu=()
    load_results "$json" mean cpu cpu

    local body=$WORK/status.md
    awk -v heading="$heading" -v date="$(date -u +%Y-%m-%d)" -v host="$(host_summary)" \
        -v n="$running" -v runs="$RUNS" -v warmup="$WARMUP" -v user="$RUN_AS_NOTE" \
        -v boxtop="${mean[boxtop-ps]}" -v boxtop_cpu="${cpu[boxtop-ps]}" \
        -v ps="${mean[ps-e]}" -v ps_cpu="${cpu[ps-e]}" \
        -v show="$(show_command "$ps_command")" '
        BEGIN {
            print heading
            print ""
            printf "Measured %s on %s: %d running instances (each a sleeping program), %d runs of each command after %d warmup runs, %s.\n", date, host, n, runs, warmup, user
            print ""
            print "A refresh is what the TUI does every second and what `boxtop ps` does once: read every state file, check each pid against its start time, find each sandbox'"'"'s processes and add up their CPU and memory. Timing the whole `boxtop ps` process bounds the refresh from above (it includes starting the process)."
            print ""
            print "| Command | Wall, mean (ms) | CPU, user + system (ms) |"
            print "| --- | ---: | ---: |"
            printf "| `boxtop ps --json --interval 0` | %.3f | %.3f |\n", boxtop, boxtop_cpu
            printf "| `ps -e` | %.3f | %.3f |\n", ps, ps_cpu
            print ""
            printf "Refresh of %d instances: **%.2f ms**. Goal: under 10 ms: **%s**. CPU cost against `ps -e`: **%.2fx**.\n", n, boxtop, (boxtop < 10) ? "met" : "not met", (ps_cpu > 0) ? boxtop_cpu / ps_cpu : 0
            print ""
            print "```"
            print show
            print "ps -e"
            print "```"
        }' >"$body"

    write_section "$heading" "$body"
    echo
    cat "$body"
}

# ---------------------------------------------------------------------------------------
# The TUI, in a tmux pane of the measured user: a real terminal, drawn to as a person's.

tmux_as_user() {
    (cd "$WORK" && "${RUN_AS[@]}" tmux -f /dev/null -S "$WORK/runtime/tmux.sock" "$@")
}

# Waits until the pane of session $1 shows the text $2, for at most $3 seconds.
wait_for_screen() {
    local session=$1 text=$2 seconds=$3 deadline
    deadline=$((SECONDS + seconds))
    until tmux_as_user capture-pane -p -t "$session" | grep -qF -- "$text"; do
        if ((SECONDS >= deadline)); then
            tmux_as_user capture-pane -p -t "$session" >&2 || true
            die "the TUI did not show '$text' within $seconds s (its screen is above)"
        fi
        sleep 0.2
    done
}

# Writes $2 user profiles into folder $1, in four shapes like the bundled ones: a viewer
# with a read-only share, a browser extending base-browser, a networked chat app with
# D-Bus names and a variable, an X11 media app with GPU, webcam and a read-write share.
write_profiles() {
    local dir=$1 count=$2 i name
    mkdir -p "$dir"
    for ((i = 0; i < count; i++)); do
        name=$(printf 'bench-app-%03d' "$i")
        {
            printf '# %s: generated for the TUI benchmark.\nname = "%s"\n' "$name" "$name"
            case $((i % 4)) in
                0) printf 'description = "Viewer %d"\ncommand = ["%s"]\ndisplay = "wayland"\nnetwork = "none"\n\n[home]\nephemeral = false\n\n[[home.share]]\npath = "Documents"\nmode = "ro"\n' "$i" "$name" ;;
                1) printf 'description = "Browser %d"\nextends = "base-browser"\ncommand = ["%s", "--new-window"]\n' "$i" "$name" ;;
                2) printf 'description = "Chat %d"\ncommand = ["%s"]\ndisplay = "auto"\naudio = "auto"\nnetwork = "host"\n\n[dbus]\ntalk = ["org.freedesktop.Notifications", "org.freedesktop.portal.Desktop"]\nown = ["org.example.App%d"]\n\n[env]\nAPP_MODE = "sandboxed"\n' "$i" "$name" "$i" ;;
                3) printf 'description = "Media %d"\ncommand = ["%s"]\ndisplay = "x11"\naudio = "pulseaudio"\ngpu = true\nwebcam = true\nnetwork = "isolated"\n\n[[home.share]]\npath = "Downloads"\nmode = "rw"\ncreate = true\n' "$i" "$name" ;;
            esac
        } >"$dir/$name.toml"
    done
}

# Prints utime + stime of process $1 in clock ticks: fields 14 and 15 of its stat, read
# after the name in parentheses (which may hold spaces).
cpu_ticks() {
    local stat
    stat=$(<"/proc/$1/stat")
    stat=${stat##*) }
    awk '{ print $12 + $13 }' <<<"$stat"
}

# Prints field $2 (VmRSS, VmHWM) of process $1's status, in KiB.
memory_kib() {
    awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"
}

# Starts the TUI in tmux session $1 (with the environment assignments that follow, then
# after a '--' its arguments), waits for its first screen, and prints its pid.
start_tui() {
    local session=$1
    shift
    local -a assignments=() args=()
    while (($# > 0)); do
        if [[ $1 == -- ]]; then
            shift
            args=("$@")
            break
        fi
        assignments+=("$1")
        shift
    done
    tmux_as_user new-session -d -s "$session" -x 120 -y 40 \
        "exec env ${assignments[*]} $WORK/bin/boxtop ${args[*]}"
    wait_for_screen "$session" '┌ Instances' 20
    local pid
    pid=$(tmux_as_user display-message -p -t "$session" '#{pane_pid}')
    [[ $(<"/proc/$pid/comm") == boxtop ]] || die "the pane's process $pid is not boxtop"
    echo "$pid"
}

quit_tui() {
    local session=$1 pid=$2 i
    tmux_as_user send-keys -t "$session" q
    for ((i = 0; i < 50; i++)); do
        [[ -d /proc/$pid ]] || return 0
        sleep 0.1
    done
    die "the TUI (pid $pid) did not quit on q"
}

# The TUI's three figures: the first frame with TUI_PROFILES user profiles, CPU time over
# TUI_IDLE_SECS idle seconds with TUI_INSTANCES running instances, and its memory.
#
# The first frame: BOXTOP_TUI_EXIT_AFTER_FIRST_FRAME=1 makes the TUI quit right after its
# first frame is written to the terminal, so hyperfine's time of the whole run bounds the
# first frame from above. hyperfine runs in a tmux pane; each run's stdin and stdout are
# that pane's terminal.
bench_tui() {
    local heading='## TUI: first frame, idle CPU, memory'
    command -v tmux >/dev/null 2>&1 ||
        die "tmux not found: run scripts/install-deps.sh bench (make bench does)"
    local boxtop="$WORK/bin/boxtop" many="$WORK/config-many" bundled_count
    bundled_count=$(find profiles -maxdepth 1 -name '*.toml' | wc -l)
    write_profiles "$many/boxtop/profiles" "$TUI_PROFILES"
    if ((EUID == 0)); then
        chown -R "$BENCH_UID:$BENCH_UID" "$many"
    fi
    local listed
    listed=$(cd "$WORK" && "${RUN_AS[@]}" XDG_CONFIG_HOME="$many" "$boxtop" list --json |
        jq '[.profiles[] | select(.source == "user")] | length')
    ((listed == TUI_PROFILES)) || die "boxtop lists $listed of the $TUI_PROFILES generated profiles"
    (cd "$WORK" && "${RUN_AS[@]}" XDG_CONFIG_HOME="$many" "$boxtop" check >/dev/null) ||
        die "the generated profiles do not pass boxtop check"

    local json=$RESULTS_DIR/tui-first-frame.json
    local bundled_command="BOXTOP_TUI_EXIT_AFTER_FIRST_FRAME=1 $boxtop </dev/tty >/dev/tty"
    local many_command="BOXTOP_TUI_EXIT_AFTER_FIRST_FRAME=1 XDG_CONFIG_HOME=$many $boxtop </dev/tty >/dev/tty"
    {
        printf 'hyperfine --shell=sh --style=basic --warmup %d --runs %d --time-unit millisecond' "$WARMUP" "$RUNS"
        printf ' --export-json %s' "$WORK/first-frame.json"
        printf " --command-name bundled '%s' --command-name many '%s'" "$bundled_command" "$many_command"
        printf ' >%s 2>&1\n' "$WORK/first-frame.log"
        printf 'echo $? >%s\n' "$WORK/first-frame.status"
    } >"$WORK/first-frame.sh"
    say "tui: timing the first frame, bundled profiles and $TUI_PROFILES more ($RUNS runs each, in tmux)"
    tmux_as_user new-session -d -s first-frame -x 120 -y 40 "sh $WORK/first-frame.sh"
    local deadline=$((SECONDS + 60 + RUNS * 4))
    until [[ -s $WORK/first-frame.status ]]; do
        ((SECONDS < deadline)) || die "the first-frame timing did not end; see $WORK/first-frame.log"
        sleep 0.5
    done
    if [[ $(<"$WORK/first-frame.status") != 0 ]]; then
        cat "$WORK/first-frame.log" >&2
        die "hyperfine failed timing the first frame"
    fi
    mkdir -p "$RESULTS_DIR"
    cp "$WORK/first-frame.json" "$json"
    local -A mean=() stddev=()
    load_results "$json" mean stddev stddev

    say "tui: memory with $TUI_PROFILES more profiles, once drawn"
    local pid many_rss many_hwm
    pid=$(start_tui many "XDG_CONFIG_HOME=$many")
    local total=$((TUI_PROFILES + bundled_count))
    wait_for_screen many "Profiles $total/$total" 10
    many_rss=$(memory_kib "$pid" VmRSS)
    many_hwm=$(memory_kib "$pid" VmHWM)
    quit_tui many "$pid"

    say "tui: starting $TUI_INSTANCES instances of benches/sleeper.toml"
    local i
    for ((i = 0; i < TUI_INSTANCES; i++)); do
        (cd "$WORK" && "${RUN_AS[@]}" "$boxtop" run --detach --profile-file "$WORK/bin/sleeper.toml" >/dev/null) ||
            die "could not start instance $i"
    done
    pid=$(start_tui idle)
    wait_for_screen idle "· $TUI_INSTANCES running" 10
    # Past the start: what setting up costs is not idle CPU.
    sleep 2
    say "tui: $TUI_IDLE_SECS idle seconds with $TUI_INSTANCES running instances (pid $pid)"
    local ticks0 ticks1 start end
    ticks0=$(cpu_ticks "$pid")
    start=$(date +%s.%N)
    sleep "$TUI_IDLE_SECS"
    ticks1=$(cpu_ticks "$pid")
    end=$(date +%s.%N)
    local idle_rss idle_hwm
    idle_rss=$(memory_kib "$pid" VmRSS)
    idle_hwm=$(memory_kib "$pid" VmHWM)
    # It was refreshing all along: every instance is still listed as running.
    wait_for_screen idle "· $TUI_INSTANCES running" 2
    quit_tui idle "$pid"
    (cd "$WORK" && "${RUN_AS[@]}" "$boxtop" kill bench-sleeper >/dev/null) ||
        say "tui: could not kill every instance"

    local body=$WORK/tui.md
    awk -v heading="$heading" -v date="$(date -u +%Y-%m-%d)" -v host="$(host_summary)" \
        -v runs="$RUNS" -v warmup="$WARMUP" -v user="$RUN_AS_NOTE" \
        -v hyperfine_version="$(hyperfine --version)" -v tmux_version="$(tmux -V)" \
        -v profiles="$TUI_PROFILES" -v bundled_count="$bundled_count" \
        -v bundled="${mean[bundled]}" -v bundled_sd="${stddev[bundled]}" \
        -v many="${mean[many]}" -v many_sd="${stddev[many]}" \
        -v instances="$TUI_INSTANCES" -v secs="$TUI_IDLE_SECS" \
        -v ticks="$((ticks1 - ticks0))" -v clock="$(getconf CLK_TCK)" -v start="$start" -v end="$end" \
        -v idle_rss="$idle_rss" -v idle_hwm="$idle_hwm" -v many_rss="$many_rss" -v many_hwm="$many_hwm" \
        -v show_bundled="$(show_command "$bundled_command")" -v show_many="$(show_command "$many_command")" '
        function mib(kib) { return kib / 1024 }
        function verdict(ok) { return ok ? "met" : "not met" }
        BEGIN {
            elapsed = end - start
            cpu_s = ticks / clock
            percent = 100 * cpu_s / elapsed
            peak = idle_hwm > many_hwm ? idle_hwm : many_hwm
            print heading
            print ""
            printf "Measured %s on %s, with %s and %s, %s, in a 120x40 tmux pane.\n", date, host, hyperfine_version, tmux_version, user
            print ""
            printf "**First frame.** `BOXTOP_TUI_EXIT_AFTER_FIRST_FRAME=1` makes the TUI quit as soon as its first frame is written to the terminal. hyperfine times the whole run (exec, loading every profile, one read of the instances, terminal set-up, the frame, restoring the terminal, exit), which bounds the time to the first frame from above; %d runs of each after %d warmup runs, no instance running.\n", runs, warmup
            print ""
            print "| Profiles | Start to first frame, mean ± σ (ms) |"
            print "| --- | ---: |"
            printf "| %d bundled | %.1f ± %.1f |\n", bundled_count, bundled, bundled_sd
            printf "| %d bundled + %d user profiles (four shapes, a quarter extending base-browser) | %.1f ± %.1f |\n", bundled_count, profiles, many, many_sd
            print ""
            printf "First frame with %d profiles: **%.1f ms**. Goal: under 100 ms: **%s**.\n", profiles, many, verdict(many < 100)
            print ""
            printf "**Idle CPU.** The TUI left alone with the bundled profiles and %d running instances (benches/sleeper.toml), refreshing every second: its user + system time (`/proc/PID/stat`, all its threads) over %.1f s, counted from 2 s after its first screen.\n", instances, elapsed
            print ""
            printf "CPU: **%.2f s in %.1f s = %.2f%% of one core**. Goal: under 1%%: **%s**.\n", cpu_s, elapsed, percent, verdict(percent < 1)
            print ""
            print "**Memory** (`/proc/PID/status`):"
            print ""
            print "| When | VmRSS (MiB) | VmHWM, peak (MiB) |"
            print "| --- | ---: | ---: |"
            printf "| idle with %d running instances, after %d s | %.1f | %.1f |\n", instances, secs, mib(idle_rss), mib(idle_hwm)
            printf "| %d + %d profiles, first screen drawn | %.1f | %.1f |\n", bundled_count, profiles, mib(many_rss), mib(many_hwm)
            print ""
            printf "Peak RSS: **%.1f MiB**. Goal: under 30 MiB: **%s**.\n", mib(peak), verdict(mib(peak) < 30)
            print ""
            print "First-frame commands, each run by `sh -c` in the pane (`$BENCH_DIR` is the temporary directory):"
            print ""
            print "```"
            print show_bundled
            print show_many
            print "```"
        }' >"$body"

    write_section "$heading" "$body"
    echo
    cat "$body"
}

# ---------------------------------------------------------------------------------------
# Refresh among many host processes, and a soak of launches with the TUI open.

# Number of processes on the host (pid folders in /proc).
host_process_count() {
    local -a pids=(/proc/[0-9]*)
    echo "${#pids[@]}"
}

# Starts $1 sleeping processes of the measured user, unrelated to boxtop, in a process
# group of their own (CROWD_PGID), and waits until they all run. Each is a `sleep`:
# a few hundred KiB each.
start_crowd() {
    local count=$1 ready=$WORK/crowd.pgid deadline
    rm -f "$ready"
    # setsid: its own session and process group, so that one signal ends them all.
    (cd "$WORK" && exec "${RUN_AS[@]}" setsid /bin/bash -c '
        for ((i = 0; i < $1; i++)); do /bin/sleep infinity & done
        echo "$$" >"$2.tmp" && mv "$2.tmp" "$2"
        wait' crowd "$count" "$ready" </dev/null >/dev/null 2>&1) &
    disown
    deadline=$((SECONDS + 120 + count / 50))
    until [[ -s $ready ]]; do
        ((SECONDS < deadline)) || die "the $count host processes did not start within $((deadline - SECONDS)) s"
        sleep 0.5
    done
    CROWD_PGID=$(<"$ready")
    [[ $CROWD_PGID =~ ^[0-9]+$ ]] || die "the host processes' group is not a pid: '$CROWD_PGID'"
    local running
    running=$(pgrep -c -g "$CROWD_PGID" -x sleep || true)
    ((running == count)) || die "only $running of $count host processes run"
}

# Ends the processes start_crowd started (their process group) and waits until they are
# gone.
stop_crowd() {
    [[ -n $CROWD_PGID ]] || return 0
    kill -KILL -- "-$CROWD_PGID" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do
        pgrep -g "$CROWD_PGID" >/dev/null 2>&1 || break
        sleep 0.1
    done
    CROWD_PGID=
}

# Starts $1 instances of benches/sleeper.toml and checks that they all run.
start_sleepers() {
    local count=$1 what=$2 i running
    say "$what: starting $count instances of benches/sleeper.toml"
    for ((i = 0; i < count; i++)); do
        (cd "$WORK" && "${RUN_AS[@]}" "$WORK/bin/boxtop" run --detach --profile-file "$WORK/bin/sleeper.toml" >/dev/null) ||
            die "could not start instance $i"
    done
    running=$(cd "$WORK" && "${RUN_AS[@]}" "$WORK/bin/boxtop" ps --json --interval 0 |
        jq '[.instances[] | select(.state.state == "running")] | length')
    ((running == count)) || die "$running of $count instances are running"
}

# REFRESH_INSTANCES sleeping instances among HOST_PROCESSES unrelated processes of the
# same user: `boxtop ps` timed with one refresh (from a cold start) and with two, which
# gives a warm refresh (the TUI's, every second); then the TUI's idle CPU.
bench_refresh() {
    local heading="## Refresh: $REFRESH_INSTANCES instances among $HOST_PROCESSES host processes"
    local json=$RESULTS_DIR/refresh.json boxtop="$WORK/bin/boxtop"
    command -v pgrep >/dev/null 2>&1 ||
        die "pgrep not found: run scripts/install-deps.sh bench (make bench does)"
    start_sleepers "$REFRESH_INSTANCES" refresh
    say "refresh: starting $HOST_PROCESSES unrelated host processes"
    start_crowd "$HOST_PROCESSES"
    local processes
    processes=$(host_process_count)

    local one="$boxtop ps --json --interval 0" two="$boxtop ps --json --interval 1"
    say "refresh: timing boxtop ps with one and with two refreshes ($REFRESH_RUNS runs each, $processes processes on the host)"
    # In rounds, the two commands one after the other, so that the load of the shared
    # machine weighs on both alike.
    local HYPERFINE_RUNS=$REFRESH_RUNS HYPERFINE_WARMUP=5
    run_hyperfine_rounds "$json" one-refresh "$one" two-refreshes "$two"
    local -A mean=() stddev=() median=() cpu=() unused=()
    load_results "$json" mean stddev stddev
    load_results "$json" unused median median
    load_results "$json" unused cpu cpu
    local load
    load=$(cut -d ' ' -f 1 /proc/loadavg)

    local pid
    pid=$(start_tui refresh-idle)
    wait_for_screen refresh-idle "· $REFRESH_INSTANCES running" 20
    sleep 2
    say "refresh: $REFRESH_IDLE_SECS idle seconds of the TUI (pid $pid)"
    local ticks0 ticks1 start end
    ticks0=$(cpu_ticks "$pid")
    start=$(date +%s.%N)
    sleep "$REFRESH_IDLE_SECS"
    ticks1=$(cpu_ticks "$pid")
    end=$(date +%s.%N)
    wait_for_screen refresh-idle "· $REFRESH_INSTANCES running" 2
    quit_tui refresh-idle "$pid"
    (cd "$WORK" && "${RUN_AS[@]}" "$boxtop" kill bench-sleeper >/dev/null) ||
        say "refresh: could not kill every instance"
    stop_crowd

    local body=$WORK/refresh.md
    awk -v heading="$heading" -v date="$(date -u +%Y-%m-%d)" -v host="$(host_summary)" \
        -v n="$REFRESH_INSTANCES" -v crowd="$HOST_PROCESSES" -v processes="$processes" \
        -v runs="$REFRESH_RUNS" -v rounds="$ROUNDS" -v cores="$(nproc)" -v user="$RUN_AS_NOTE" -v load="$load" \
        -v one="${mean[one-refresh]}" -v one_sd="${stddev[one-refresh]}" \
        -v two="${mean[two-refreshes]}" -v two_sd="${stddev[two-refreshes]}" \
        -v one_median="${median[one-refresh]}" -v two_median="${median[two-refreshes]}" \
        -v one_cpu="${cpu[one-refresh]}" -v two_cpu="${cpu[two-refreshes]}" \
        -v secs="$REFRESH_IDLE_SECS" -v ticks="$((ticks1 - ticks0))" -v clock="$(getconf CLK_TCK)" \
        -v start="$start" -v end="$end" \
        -v show_one="$(show_command "$one")" -v show_two="$(show_command "$two")" '
        function verdict(ok) { return ok ? "met" : "not met" }
        BEGIN {
            # Medians: a run slowed by another user of the machine moves them least.
            warm = two_median - one_median - 1
            warm_cpu = two_cpu - one_cpu
            elapsed = end - start
            cpu_s = ticks / clock
            percent = 100 * cpu_s / elapsed
            print heading
            print ""
            printf "Measured %s on %s, %s: %d running instances (benches/sleeper.toml) and %d unrelated sleeping processes of the same user, %d processes on the host in all.\n", date, host, user, n, crowd, processes
            print ""
            print "A refresh does not read every host process: it keeps what it read of each process (a process never changes pid namespace) and reads the processes started since the last refresh, the pids the kernel handed out since (`ns_last_pid`), or, on the first refresh and once a minute, lists `/proc` and reads the processes it does not know yet (`src/instance/census.rs`). `boxtop ps` is timed with one refresh (a new process: every host process is read once) and with two, 1 ms apart: the difference, less the 1 ms pause, is one later refresh, the kind the TUI makes every second. The load average of the shared machine during the timing is given: the wall times grow with it."
            print ""
            printf "| Command (%d runs in %d rounds, load average %s) | Wall, mean ± σ (ms) | Wall, median (ms) | CPU, user + system (ms) |\n", runs, rounds, load
            print "| --- | ---: | ---: | ---: |"
            printf "| `boxtop ps --json --interval 0`: one refresh | %.2f ± %.2f | %.2f | %.2f |\n", one, one_sd, one_median, one_cpu
            printf "| `boxtop ps --json --interval 1`: two refreshes | %.2f ± %.2f | %.2f | %.2f |\n", two, two_sd, two_median, two_cpu
            print ""
            printf "A later refresh of %d instances among %d host processes: **%.2f ms** of wall time (difference of the medians, less the 1 ms pause), **%.2f ms** of CPU time (difference of the CPU times). Goal: under 10 ms: **%s** in wall time, **%s** in CPU time. The refresh waits for nothing (`/proc` and the state files in a tmpfs), so on an unloaded machine its wall time is its CPU time; with a load average of %s on %d cores, it waits for a core. A `boxtop ps` from its start (a new process: every host process read once): %.2f ms median.\n", n, processes, warm, warm_cpu, verdict(warm < 10), verdict(warm_cpu < 10), load, cores, one_median
            print ""
            printf "**TUI idle CPU** in that setting, refreshing every second: its user + system time over %.1f s, counted from 2 s after its first screen: **%.2f s = %.2f%% of one core**. Goal: under 1%%: **%s**.\n", elapsed, cpu_s, percent, verdict(percent < 1)
            print ""
            print "```"
            print show_one
            print show_two
            print "```"
        }' >"$body"

    write_section "$heading" "$body"
    echo
    cat "$body"
}

soak_profile() {
    printf 'bench-soak-%02d' "$1"
}

# Files (and folders) below $1, 0 when it does not exist.
file_count() {
    if [[ -d $1 ]]; then
        find "$1" -mindepth 1 2>/dev/null | wc -l
    else
        echo 0
    fi
}

# One soak sample line: the time (seconds, fractional), the TUI's VmRSS (KiB) and CPU
# ticks, files in the runtime and state folders.
soak_sample() {
    local pid=$1
    printf '%s %s %s %s %s\n' "$EPOCHREALTIME" "$(memory_kib "$pid" VmRSS)" "$(cpu_ticks "$pid")" \
        "$(file_count "$RUNTIME")" "$(file_count "$WORK/state")"
}

# Runs boxtop as the measured user; on failure counts it and keeps the first message.
soak_boxtop() {
    local output
    if ! output=$(cd "$WORK" && "${RUN_AS[@]}" "$WORK/bin/boxtop" "$@" 2>&1); then
        SOAK_FAILURES=$((SOAK_FAILURES + 1))
        [[ -n $SOAK_FIRST_FAILURE ]] || SOAK_FIRST_FAILURE="boxtop $*: $output"
        return 1
    fi
    printf '%s' "$output"
}

# SOAK_SECS of churn with the TUI open (refreshing every SOAK_REFRESH s): rounds of
# launching SOAK_PROFILES profiles, pausing, resuming and stopping each. The TUI's
# memory and CPU and the files in the runtime and state folders are sampled after each
# round; the report compares the start, the middle and the end.
bench_soak() {
    local heading='## Soak: launch, pause, resume, stop with the TUI open'
    local profiles=$WORK/config/boxtop/profiles i
    mkdir -p "$profiles"
    for ((i = 0; i < SOAK_PROFILES; i++)); do
        printf 'name = "%s"\ndescription = "Soak %d"\ncommand = ["/bin/sleep", "100000"]\nnetwork = "none"\n\n[home]\nephemeral = true\n' \
            "$(soak_profile "$i")" "$i" >"$profiles/$(soak_profile "$i").toml"
    done
    if ((EUID == 0)); then
        chown -R "$BENCH_UID:$BENCH_UID" "$WORK/config"
    fi
    local pid t0 samples=$RESULTS_DIR/soak.txt
    pid=$(start_tui soak -- --refresh "$SOAK_REFRESH")
    sleep 2
    t0=$SECONDS
    mkdir -p "$RESULTS_DIR"
    soak_sample "$pid" >"$samples"
    SOAK_FAILURES=0
    SOAK_FIRST_FAILURE=
    local rounds=0 launches=0 commands=0 id
    local -a ids
    say "soak: $SOAK_SECS s of rounds of $SOAK_PROFILES launches, pauses, resumes and stops (TUI pid $pid)"
    while ((SECONDS - t0 < SOAK_SECS)); do
        ids=()
        for ((i = 0; i < SOAK_PROFILES; i++)); do
            if id=$(soak_boxtop run --detach "$(soak_profile "$i")"); then
                ids+=("$id")
            fi
        done
        for id in "${ids[@]}"; do soak_boxtop pause "$id" >/dev/null || true; done
        for id in "${ids[@]}"; do soak_boxtop resume "$id" >/dev/null || true; done
        for id in "${ids[@]}"; do soak_boxtop stop --timeout 5 "$id" >/dev/null || true; done
        launches=$((launches + ${#ids[@]}))
        commands=$((commands + SOAK_PROFILES + 3 * ${#ids[@]}))
        rounds=$((rounds + 1))
        soak_sample "$pid" >>"$samples"
    done
    # Every instance has ended: what is left is what stays.
    sleep 3
    soak_sample "$pid" >>"$samples"
    local live
    live=$(cd "$WORK" && "${RUN_AS[@]}" "$WORK/bin/boxtop" ps --json --interval 0 |
        jq '[.instances[] | select(.state.state != "exited" and .state.state != "killed")] | length')
    quit_tui soak "$pid"

    local body=$WORK/soak.md
    awk -v heading="$heading" -v date="$(date -u +%Y-%m-%d)" -v host="$(host_summary)" \
        -v user="$RUN_AS_NOTE" -v secs="$SOAK_SECS" -v profiles="$SOAK_PROFILES" \
        -v refresh="$SOAK_REFRESH" -v rounds="$rounds" -v launches="$launches" -v commands="$commands" \
        -v failures="$SOAK_FAILURES" -v first_failure="$SOAK_FIRST_FAILURE" -v live="$live" \
        -v clock="$(getconf CLK_TCK)" -v samples="$samples" '
        function mib(kib) { return kib / 1024 }
        function max(a, b) { return a > b ? a : b }
        # CPU % of one core between samples i and j.
        function cpu(i, j) { return (t[j] > t[i]) ? 100 * (ticks[j] - ticks[i]) / clock / (t[j] - t[i]) : 0 }
        BEGIN {
            n = 0
            while ((getline line < samples) > 0) {
                split(line, f, " ")
                t[n] = f[1]; rss[n] = f[2]; ticks[n] = f[3]; run[n] = f[4]; state[n] = f[5]
                n++
            }
            # Samples: 0 before any churn, 1..n-2 after each round, n-1 after 3 s of rest.
            last = n - 1; end_round = n - 2
            span = t[end_round] - t[0]
            # The first and the last quarter of the churn, for CPU; its middle and last
            # thirds, for growth (the first fills the folders up to where pruning starts):
            # a peak of the last third above that of the middle one is growth.
            q1 = 1; while (q1 < end_round && t[q1] - t[0] < span / 4) q1++
            q3 = end_round; while (q3 > 1 && t[end_round] - t[q3] < span / 4) q3--
            for (i = 1; i <= end_round; i++) {
                if (t[i] - t[0] < span / 3) continue
                half = (t[i] - t[0] <= 2 * span / 3) ? 1 : 2
                rss_max[half] = max(rss_max[half], rss[i])
                run_max[half] = max(run_max[half], run[i])
                state_max[half] = max(state_max[half], state[i])
            }
            rss_ok = rss_max[2] <= max(rss_max[1] + 1024, rss_max[1] * 1.1)
            files_ok = run_max[2] <= run_max[1] + 3 && state_max[2] <= state_max[1] + 3
            bounded = rss_ok && files_ok && live == 0
            print heading
            print ""
            printf "Measured %s on %s, %s. The TUI open (`--refresh %s`, a 120x40 tmux pane) while %d profiles (`/bin/sleep`, no network, an ephemeral home) are churned for %d s: in each round every profile is launched detached, then each instance paused, resumed and stopped. %d rounds: %d launches, %d boxtop commands in all (%d failed), about %d refreshes of the TUI. An hour of busy use (a launch a minute, a refresh a second) is 60 launches and 3600 refreshes.\n", date, host, user, refresh, profiles, secs, rounds, launches, commands, failures, span / refresh
            if (failures > 0) printf "\nFirst failure: `%s`\n", first_failure
            print ""
            print "| | TUI VmRSS (MiB) | TUI CPU (% of one core) | Files in the runtime folder | Files in the state folder |"
            print "| --- | ---: | ---: | ---: | ---: |"
            printf "| start, before any launch | %.1f | %.2f over the first quarter | %d | %d |\n", mib(rss[0]), cpu(0, q1), run[0], state[0]
            printf "| end of the churn (%.0f s) | %.1f | %.2f over the last quarter | %d | %d |\n", span, mib(rss[end_round]), cpu(q3, end_round), run[end_round], state[end_round]
            printf "| 3 s later, every instance ended | %.1f | | %d | %d |\n", mib(rss[last]), run[last], state[last]
            printf "| peak, middle third of the churn | %.1f | | %d | %d |\n", mib(rss_max[1]), run_max[1], state_max[1]
            printf "| peak, last third of the churn | %.1f | | %d | %d |\n", mib(rss_max[2]), run_max[2], state_max[2]
            print ""
            printf "Instances not ended at the end: %d. The runtime folder holds the state files of ended instances until they are pruned, the state folder their logs until they are pruned: both rise and fall back as records and logs are pruned.\n", live
            print ""
            printf "Nothing grows without bound: **%s** (the last third of the churn peaks no higher than the middle one: RSS within 1 MiB or 10%%, each folder within 3 files; no instance left).\n", bounded ? "yes" : "no, see the table"
            print ""
            printf "Every sample: `target/bench/soak.txt` (time, VmRSS KiB, CPU ticks, runtime files, state files), one per round.\n"
        }' >"$body"

    write_section "$heading" "$body"
    echo
    cat "$body"
}

# The median of the numbers on stdin, one a line.
median() {
    sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

now_ns() { date +%s%N; }

# Time from `boxtop share` to the folder visible inside a running sandbox: a loop inside
# (`boxtop enter`) waits for a file of the folder and prints the time it sees it; the
# host notes the time just before `boxtop share` starts. Also the command's own wall
# time, and the time boxtop reports for the change itself (fork, namespaces, clone,
# mount).
bench_live() {
    local heading='## Live share: boxtop share to visible inside'
    local boxtop="$WORK/bin/boxtop" id live="$WORK/home/live" i
    mkdir -p "$live"
    : >"$live/marker"
    if ((EUID == 0)); then
        chown -R "$BENCH_UID:$BENCH_UID" "$live"
    fi
    id=$(cd "$WORK" && "${RUN_AS[@]}" "$boxtop" run --detach --profile-file "$WORK/bin/sleeper.toml") ||
        die "live: cannot start the sleeper"
    say "live: $LIVE_RUNS shares of $live with $id"
    local -a visible=() wall=() reported=() start=()
    local watch_out=$WORK/live-watch.txt t0 t1 seen out
    for ((i = 0; i < LIVE_RUNS; i++)); do
        : >"$watch_out"
        (cd "$WORK" && "${RUN_AS[@]}" "$boxtop" enter "$id" -- /bin/sh -c \
            "echo ready; while [ ! -e $live/marker ]; do :; done; date +%s%N" >"$watch_out" 2>&1) &
        local watcher=$!
        local tries=0
        until grep -q ready "$watch_out" || ((tries++ > 500)); do sleep 0.01; done
        sleep 0.05
        t0=$(now_ns)
        out=$(cd "$WORK" && "${RUN_AS[@]}" "$boxtop" share "$id" "$live") || die "live: boxtop share failed: $out"
        t1=$(now_ns)
        wait "$watcher" || die "live: the watcher inside failed: $(cat "$watch_out")"
        seen=$(tail -n 1 "$watch_out")
        visible+=("$(awk -v a="$seen" -v b="$t0" 'BEGIN { printf "%.2f", (a - b) / 1e6 }')")
        wall+=("$(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.2f", (a - b) / 1e6 }')")
        reported+=("$(sed -n 's/.*(\([0-9]*\) ms)$/\1/p' <<<"$out")")
        (cd "$WORK" && "${RUN_AS[@]}" "$boxtop" unshare "$id" "$live" >/dev/null 2>&1) ||
            die "live: boxtop unshare failed"
        # The floor: the same user starting boxtop for nothing.
        t0=$(now_ns)
        (cd "$WORK" && "${RUN_AS[@]}" "$boxtop" --version >/dev/null)
        t1=$(now_ns)
        start+=("$(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.2f", (a - b) / 1e6 }')")
    done
    (cd "$WORK" && "${RUN_AS[@]}" "$boxtop" kill "$id" >/dev/null 2>&1) || true
    local m_visible m_wall m_reported max_visible m_start
    m_start=$(printf '%s\n' "${start[@]}" | median)
    m_visible=$(printf '%s\n' "${visible[@]}" | median)
    max_visible=$(printf '%s\n' "${visible[@]}" | sort -n | tail -n 1)
    m_wall=$(printf '%s\n' "${wall[@]}" | median)
    m_reported=$(printf '%s\n' "${reported[@]}" | median)
    local body=$WORK/live.md verdict
    verdict=$(awk -v m="$m_visible" 'BEGIN { print (m < 20) ? "met" : "not met" }')
    {
        printf '%s\n\n' "$heading"
        printf 'Measured %s on %s, %s: %d shares of a folder with a running sandbox (benches/sleeper.toml), each taken back before the next.\n\n' \
            "$(date -u +%Y-%m-%d)" "$(host_summary)" "$RUN_AS_NOTE" "$LIVE_RUNS"
        printf '| What | Median (ms) |\n| --- | ---: |\n'
        printf '| `boxtop share` started → the folder seen by a loop inside (max %s) | %s |\n' "$max_visible" "$m_visible"
        printf '| `boxtop share`, whole command (wall time) | %s |\n' "$m_wall"
        printf '| the change itself, as boxtop reports it (fork, namespaces, clone, mount) | %s |\n' "$m_reported"
        printf '| for reference: `boxtop --version` started the same way (setpriv, env, exec) | %s |\n\n' "$m_start"
        printf 'The loop inside spins on one of the CPUs while it waits. What is not the change itself is starting a process as the measured user and boxtop reading its state.\n\n'
        printf 'Goal: under 20 ms to visible inside: **%s**.\n' "$verdict"
    } >"$body"
    write_section "$heading" "$body"
    echo
    cat "$body"
}

# The program, the window title (an extended regex of xwininfo's `"TITLE": (` tree line,
# so that the class names that follow never match) and the runs of an app of the apps
# benchmark.
app_program() {
    case $1 in
        mousepad) printf '/usr/bin/mousepad' ;;
        firefox-esr) printf '/usr/bin/firefox-esr' ;;
        chromium) printf '/usr/bin/chromium' ;;
        *) die "apps: unknown app $1" ;;
    esac
}
app_title() {
    case $1 in
        mousepad) printf ' - Mousepad": \\(' ;;
        firefox-esr) printf 'Mozilla Firefox": \\(' ;;
        chromium) printf ' - Chromium": \\(' ;;
    esac
}
app_runs() {
    case $1 in
        mousepad) printf '%s' "$APP_RUNS" ;;
        *) printf '%s' "$(((APP_RUNS + 1) / 2 > 3 ? (APP_RUNS + 1) / 2 : 3))" ;;
    esac
}

# Starts `$@` as the measured user in a session of its own, on the benchmark's X server
# and session bus; prints the process group.
start_app() {
    (cd "$WORK" && exec setsid "${RUN_AS[@]}" DISPLAY="$APPS_DISPLAY" \
        DBUS_SESSION_BUS_ADDRESS="$APPS_BUS" "$@" >>"$WORK/apps.log" 2>&1) &
    printf '%s' "$!"
}

# Milliseconds until a window titled as `title` exists, or "timeout" after 30 s.
wait_window() {
    local title=$1 t0=$2 deadline=$(($(date +%s) + 30))
    while (($(date +%s) < deadline)); do
        if DISPLAY=$APPS_DISPLAY xwininfo -root -tree 2>/dev/null | grep -Eq "$title"; then
            awk -v a="$(now_ns)" -v b="$t0" 'BEGIN { printf "%.0f", (a - b) / 1e6 }'
            return
        fi
        sleep 0.005
    done
    printf 'timeout'
}

# Ends an app started by start_app (process group `pgid`) and waits for its windows to go.
stop_app() {
    local pgid=$1 title=$2 app=$3
    (cd "$WORK" && "${RUN_AS[@]}" "$WORK/bin/boxtop" kill "$app" >/dev/null 2>&1) || true
    kill -TERM -- "-$pgid" 2>/dev/null || true
    sleep 0.3
    kill -KILL -- "-$pgid" 2>/dev/null || true
    local tries=0
    while DISPLAY=$APPS_DISPLAY xwininfo -root -tree 2>/dev/null | grep -Eq "$title" && ((tries++ < 200)); do
        sleep 0.05
    done
    # What the app left (firejail's and the browsers' helpers) is the measured user's.
    pkill -KILL -u "$BENCH_UID" -f "$(app_program "$app")" 2>/dev/null || true
    # A boxtop instance still listed as live would hold the profile's private home, and
    # the next launch would join it: `boxtop kill` succeeds while there is one.
    tries=0
    while (cd "$WORK" && "${RUN_AS[@]}" "$WORK/bin/boxtop" kill "$app" >/dev/null 2>&1) &&
        ((tries++ < 100)); do
        sleep 0.1
    done
    sleep 0.2
}

# Time to the first window of desktop apps bare, under boxtop (its bundled profile) and
# under firejail (its own profile for the app), on one Xvfb with one session bus, in
# rounds that take the runners in turn. Each app and runner gets one untimed run first
# (its first-run files written).
bench_apps() {
    local heading='## Apps: time to first window, bare, boxtop and firejail'
    local tool
    for tool in Xvfb xwininfo dbus-daemon; do
        command -v "$tool" >/dev/null 2>&1 || die "$tool not found: run scripts/install-deps.sh bench"
    done
    local -a runners=(bare boxtop)
    if command -v firejail >/dev/null 2>&1; then
        # firejail looks the user up; a uid of the benchmark's own may have no entry.
        if ! getent passwd "$BENCH_UID" >/dev/null && ((EUID == 0)); then
            useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
                --uid "$BENCH_UID" boxtop-bench || die "apps: cannot add a user for uid $BENCH_UID"
            ADDED_USER=boxtop-bench
        fi
        runners+=(firejail)
    else
        say "apps: firejail is not installed (scripts/install-deps.sh bench installs it): left out"
    fi
    local n=90
    while [[ -e /tmp/.X11-unix/X$n ]]; do n=$((n + 1)); done
    APPS_DISPLAY=:$n
    (cd "$WORK" && exec "${RUN_AS[@]}" Xvfb "$APPS_DISPLAY" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1) &
    APPS_PIDS+=("$!")
    local tries=0
    until DISPLAY=$APPS_DISPLAY xwininfo -root >/dev/null 2>&1 || ((tries++ > 200)); do sleep 0.05; done
    APPS_BUS=$(cd "$WORK" && "${RUN_AS[@]}" dbus-daemon --session --fork --print-address=1 --print-pid=2 2>"$WORK/bus.pid") ||
        die "apps: cannot start a session bus"
    APPS_PIDS+=("$(cat "$WORK/bus.pid")")

    local body=$WORK/apps.md app runner round pgid t0 ms
    {
        printf '%s\n\n' "$heading"
        printf 'Measured %s on %s, %s, on Xvfb with a session bus of its own: from the start of the command to a window with the app'"'"'s title (xwininfo, polled every 5 ms). Median of the timed runs, after one untimed run of each.\n\n' \
            "$(date -u +%Y-%m-%d)" "$(host_summary)" "$RUN_AS_NOTE"
        printf '| App | Runs | %s | boxtop vs bare |\n| --- | ---: |%s ---: |\n' \
            "$(printf '%s (ms) | ' "${runners[@]}" | sed 's/ | $//')" "$(printf ' ---: |%.0s' "${runners[@]}")"
    } >"$body"
    for app in "${APPS[@]}"; do
        local program title runs
        program=$(app_program "$app")
        if [[ ! -x $program ]]; then
            say "apps: $program is not installed: $app left out"
            continue
        fi
        title=$(app_title "$app")
        runs=$(app_runs "$app")
        local -A times=()
        for runner in "${runners[@]}"; do times[$runner]=; done
        for ((round = 0; round <= runs; round++)); do
            for runner in "${runners[@]}"; do
                local -a command=("$program")
                case $runner in
                    boxtop) command=("$WORK/bin/boxtop" run "$app") ;;
                    firejail) command=(firejail --quiet "$program") ;;
                esac
                t0=$(now_ns)
                pgid=$(start_app "${command[@]}")
                ms=$(wait_window "$title" "$t0")
                stop_app "$pgid" "$title" "$app"
                say "apps: $app $runner round $round: $ms ms"
                ((round == 0)) || times[$runner]+="$ms "
            done
        done
        local row="| $app | $runs |" bare_median boxtop_median
        for runner in "${runners[@]}"; do
            local m
            m=$(tr ' ' '\n' <<<"${times[$runner]}" | grep -E '^[0-9]+$' | median)
            [[ ${times[$runner]} == *timeout* ]] && m="$m (some timed out)"
            row+=" $m |"
            [[ $runner == bare ]] && bare_median=$m
            [[ $runner == boxtop ]] && boxtop_median=$m
        done
        row+=" $(awk -v a="$boxtop_median" -v b="$bare_median" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%+.1f%%", (a - b) * 100 / b; else print "n/a" }') |"
        printf '%s\n' "$row" >>"$body"
    done
    printf '\nGoal: boxtop within 5%% of bare. The log of the apps: `$BENCH_DIR/apps.log` during the run.\n' >>"$body"
    write_section "$heading" "$body"
    echo
    cat "$body"
}

# ---------------------------------------------------------------------------------------

main() {
    local -a selected=("$@")
    ((${#selected[@]} > 0)) || selected=("${BENCHMARKS[@]}")
    local name
    for name in "${selected[@]}"; do
        [[ " ${BENCHMARKS[*]} " == *" $name "* ]] ||
            die "unknown benchmark '$name' (known: ${BENCHMARKS[*]})"
    done

    prepare_environment
    for name in "${selected[@]}"; do
        "bench_$name"
    done
    say "wrote $BENCH_DOC"
}

main "$@"
