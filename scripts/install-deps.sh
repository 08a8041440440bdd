#!/usr/bin/env bash
# Installs the system packages that boxtop's build, tests and benchmarks need.
#
#   scripts/install-deps.sh GROUP...      GROUP: build, test, bench, screenshot
#
# Installs the union of the groups' packages that are missing, with apt-get, dnf or
# pacman (through sudo when not root), and prints the list before installing. Packages
# already installed are left alone, so the common case is one line of output. Without
# a known package manager it lists what is missing and exits 1.
set -euo pipefail

# One row per package. Columns: group, Debian/Ubuntu name, Fedora (dnf) name, Arch
# (pacman) name, and what the package provides (commands, or absolute paths), which
# is only checked when there is no package manager to ask. Several packages or probes
# in one cell are joined by commas; '-' means the distribution has no such package;
# a trailing '?' marks a package that is installed only if the distribution offers it.
# Firejail's profiles (Debian splits them into firejail-profiles) are test data: the
# tests of `boxtop import firejail` convert all of them (tests/it/import.rs).
readonly PACKAGES='
build  pkg-config          pkgconf-pkg-config      pkgconf                      pkg-config
build  libseccomp-dev      libseccomp-devel        libseccomp                   /usr/include/seccomp.h
build  gcc                 gcc                     gcc                          gcc
build  libc6-dev           glibc-static?           glibc                        /usr/include/stdio.h
build  -                   libseccomp-static?      -                            /usr/include/seccomp.h
test   xvfb                xorg-x11-server-Xvfb    xorg-server-xvfb             Xvfb
test   x11-utils           xdpyinfo,xwininfo       xorg-xdpyinfo,xorg-xwininfo  xdpyinfo,xwininfo
test   x11-apps            xwd                     xorg-xwd                     xwd
test   imagemagick         ImageMagick             imagemagick                  convert
test   xterm               xterm                   xterm                        xterm
test   util-linux          util-linux              util-linux                   setpriv,unshare
test   passt               passt                   passt                        pasta
test   xdg-dbus-proxy      xdg-dbus-proxy          xdg-dbus-proxy               xdg-dbus-proxy
test   dbus                dbus-daemon             dbus                         dbus-daemon
test   dbus-bin?           dbus-tools              dbus                         dbus-send
test   dbus-tests          dbus-daemon             dbus                         dbus-test-tool
test   chromium            chromium                chromium                     chromium
test   firefox-esr?        firefox                 firefox                      firefox-esr
test   pulseaudio          pulseaudio              pulseaudio                   pulseaudio
test   pulseaudio-utils    pulseaudio-utils        libpulse                     pactl,paplay
test   pipewire-bin        pipewire,pipewire-utils pipewire                     pipewire,pw-cli
test   weston              weston                  weston                       weston
test   wayland-utils       wayland-utils           wayland-utils                wayland-info
test   desktop-file-utils  desktop-file-utils      desktop-file-utils           desktop-file-validate
test   libglib2.0-bin      glib2                   glib2                        gio
test   libnotify-bin       libnotify               libnotify                    notify-send
test   dunst               dunst                   dunst                        dunst
test   tmux                tmux                    tmux                         tmux
test   procps              procps-ng               procps-ng                    ps,pgrep
test   iproute2            iproute                 iproute2                     ip
test   mousepad            mousepad                mousepad                     mousepad
test   man-db              man-db                  man-db                       man
test   vlc                 vlc?                    vlc                          vlc
test   bubblewrap          bubblewrap              bubblewrap                   bwrap
test   firejail-profiles   firejail                firejail                     /etc/firejail/firefox.profile
bench  hyperfine           hyperfine               hyperfine                    hyperfine
bench  bubblewrap          bubblewrap              bubblewrap                   bwrap
bench  jq                  jq                      jq                           jq
bench  tmux                tmux                    tmux                         tmux
bench  util-linux          util-linux              util-linux                   setpriv
bench  procps              procps-ng               procps-ng                    ps,pgrep
bench  firejail            firejail                firejail                     firejail
bench  xvfb                xorg-x11-server-Xvfb    xorg-server-xvfb             Xvfb
bench  x11-utils           xdpyinfo,xwininfo       xorg-xdpyinfo,xorg-xwininfo  xdpyinfo,xwininfo
bench  dbus                dbus-daemon             dbus                         dbus-daemon
bench  mousepad            mousepad                mousepad                     mousepad
screenshot  tmux           tmux                    tmux                         tmux
screenshot  python3        python3                 python                       python3
screenshot  chromium       chromium                chromium                     chromium
screenshot  fonts-dejavu-core  dejavu-sans-mono-fonts  ttf-dejavu               /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf
screenshot  util-linux     util-linux              util-linux                   setpriv
'

say() { printf 'install-deps: %s\n' "$*"; }
die() { printf 'install-deps: error: %s\n' "$*" >&2; exit 1; }

usage() {
    printf 'usage: %s GROUP...   (GROUP: build, test, bench, screenshot)\n' "${0##*/}" >&2
    exit 2
}

detect_manager() {
    local manager
    for manager in apt-get dnf pacman; do
        if command -v "$manager" >/dev/null 2>&1; then
            echo "$manager"
            return
        fi
    done
    echo none
}

# Prints the names the given package manager knows for the requested groups, one per
# line, without duplicates; optional ones keep their trailing '?'.
packages_for() {
    local manager=$1 groups=" $2 " column
    case $manager in
        apt-get) column=2 ;;
        dnf) column=3 ;;
        pacman) column=4 ;;
        none) column=0 ;; # as "debian-name:probes", to be checked and reported
    esac
    awk -v column="$column" -v groups="$groups" '
        NF == 5 && index(groups, " " $1 " ") && column == 0 && $2 != "-" {
            if (!seen[$2]++) print $2 ":" $5
        }
        NF == 5 && index(groups, " " $1 " ") && column > 0 && $column != "-" {
            n = split($column, names, ",")
            for (i = 1; i <= n; i++) if (!seen[names[i]]++) print names[i]
        }' <<<"$PACKAGES"
}

is_installed() {
    local manager=$1 package=${2%\?} probe
    local -a probes
    case $manager in
        apt-get) [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$package" 2>/dev/null) == ii* ]] ;;
        dnf) rpm -q --quiet --whatprovides "$package" ;;
        pacman) pacman -Q "$package" >/dev/null 2>&1 ;;
        none)
            IFS=, read -ra probes <<<"${package#*:}"
            for probe in "${probes[@]}"; do
                if [[ $probe == /* ]]; then
                    [[ -e $probe ]] || return 1
                else
                    command -v "$probe" >/dev/null 2>&1 || return 1
                fi
            done
            ;;
    esac
}

is_offered() {
    local manager=$1 package=$2
    case $manager in
        apt-get) apt-cache show --no-all-versions "$package" >/dev/null 2>&1 ;;
        dnf) dnf -q info "$package" >/dev/null 2>&1 ;;
        pacman) pacman -Si "$package" >/dev/null 2>&1 ;;
    esac
}

# PipeWire's PulseAudio server, the default on Fedora and Arch desktops, conflicts
# with the pulseaudio package; replacing a desktop's sound server is not ours to do.
conflicts_with_installed() {
    local manager=$1 package=$2
    [[ $package == pulseaudio ]] || return 1
    case $manager in
        dnf) rpm -q --quiet pipewire-pulseaudio ;;
        pacman) pacman -Q pipewire-pulse >/dev/null 2>&1 ;;
        *) return 1 ;;
    esac
}

main() {
    (($# > 0)) || usage
    local group
    for group in "$@"; do
        case $group in
            build | test | bench | screenshot) ;;
            *) printf 'install-deps: unknown group %q\n' "$group" >&2; usage ;;
        esac
    done

    local manager groups="$*"
    manager=$(detect_manager)

    local -a wanted=() missing=()
    local package
    mapfile -t wanted < <(packages_for "$manager" "$groups")
    for package in "${wanted[@]}"; do
        if ! is_installed "$manager" "$package"; then
            missing+=("$package")
        fi
    done

    if ((${#missing[@]} == 0)); then
        say "$groups: all ${#wanted[@]} packages present"
        return
    fi

    if [[ $manager == none ]]; then
        local needed=0 name
        say "no apt-get, dnf or pacman found; install these yourself (Debian name: what it provides):" >&2
        for package in "${missing[@]}"; do
            name=${package%%:*}
            if [[ $name == *\? ]]; then
                printf '  %s: %s (optional)\n' "${name%\?}" "${package#*:}" >&2
            else
                printf '  %s: %s\n' "$name" "${package#*:}" >&2
                needed=1
            fi
        done
        return "$needed"
    fi

    local -a sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null 2>&1 ||
            die "not root and no sudo; as root, install with $manager: ${missing[*]//\?/}"
        sudo=(sudo)
    fi

    # Only now, with something to install, refresh apt's lists: once.
    if [[ $manager == apt-get ]]; then
        say "refreshing apt package lists"
        "${sudo[@]}" apt-get update -q
    fi

    local -a install=() unavailable=() conflicting=()
    for package in "${missing[@]}"; do
        if conflicts_with_installed "$manager" "$package"; then
            conflicting+=("$package")
        elif is_offered "$manager" "${package%\?}"; then
            install+=("${package%\?}")
        elif [[ $package != *\? ]]; then
            unavailable+=("$package")
        fi
    done

    if ((${#conflicting[@]} > 0)); then
        say "skipping ${conflicting[*]}: PipeWire's PulseAudio server is installed; tests that start their own pulseaudio will skip"
    fi
    if ((${#unavailable[@]} > 0)); then
        # Without these boxtop does not build, so going on would only fail later.
        local -a unavailable_for_build=()
        if [[ " $groups " == *" build "* ]]; then
            mapfile -t unavailable_for_build < <(
                packages_for "$manager" build | grep -Fx -f <(printf '%s\n' "${unavailable[@]}"))
        fi
        if ((${#unavailable_for_build[@]} > 0)); then
            die "$manager does not offer packages needed to build boxtop: ${unavailable_for_build[*]}"
        fi
        say "$manager does not offer ${unavailable[*]} here; tests and benchmarks that need them will skip or fail"
    fi
    if ((${#install[@]} == 0)); then
        return
    fi

    say "installing with $manager for $groups: ${install[*]}"
    case $manager in
        apt-get)
            "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
                apt-get install -y -q --no-install-recommends "${install[@]}"
            ;;
        dnf) "${sudo[@]}" dnf install -y "${install[@]}" ;;
        pacman) "${sudo[@]}" pacman -S --needed --noconfirm "${install[@]}" ;;
    esac
}

main "$@"
