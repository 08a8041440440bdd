#!/usr/bin/env bash
# Installs boxtop's files, or removes them again: what `make install`, `make uninstall`
# and `make deb` use.
#
#   scripts/install.sh generate     man pages and shell completions into $GEN, made by
#                                   the binary itself from its command-line definitions
#   scripts/install.sh install      copy everything under $DESTDIR$PREFIX (and the
#                                   AppArmor profile under $DESTDIR/etc where AppArmor is)
#   scripts/install.sh uninstall    remove exactly what install wrote, read from the list
#                                   it left in $PREFIX/share/doc/boxtop/installed-files
#
# Environment: PREFIX (/usr/local), DESTDIR (empty), BOXTOP (target/release/boxtop),
# GEN (target/gen), APPARMOR (auto; yes or no to force).
set -euo pipefail

cd "$(dirname "$0")/.."
readonly PREFIX=${PREFIX:-/usr/local}
readonly DESTDIR=${DESTDIR:-}
readonly BOXTOP=${BOXTOP:-target/release/boxtop}
readonly GEN=${GEN:-target/gen}
readonly APPARMOR=${APPARMOR:-auto}
readonly DOC=$PREFIX/share/doc/boxtop
readonly MANIFEST=$DOC/installed-files
readonly APPARMOR_FILE=/etc/apparmor.d/boxtop

say() { printf 'install: %s\n' "$*" >&2; }
die() { printf 'install: error: %s\n' "$*" >&2; exit 1; }

generate() {
    [[ -x $BOXTOP ]] || die "$BOXTOP is missing: build it first (make build)"
    rm -rf "$GEN"
    mkdir -p "$GEN/man" "$GEN/completions"
    "$BOXTOP" __generate man "$GEN/man"
    # The scripts call `boxtop` back for each completion (profiles, running instances).
    _BOXTOP_COMPLETE=bash "$BOXTOP" >"$GEN/completions/boxtop.bash"
    _BOXTOP_COMPLETE=zsh "$BOXTOP" >"$GEN/completions/_boxtop"
    _BOXTOP_COMPLETE=fish "$BOXTOP" >"$GEN/completions/boxtop.fish"
    say "generated $(find "$GEN" -type f | wc -l) files in $GEN"
}

# Whether this machine uses AppArmor (or the caller said).
wants_apparmor() {
    case $APPARMOR in
        yes) return 0 ;;
        no) return 1 ;;
    esac
    [[ -d /sys/kernel/security/apparmor || -d /etc/apparmor.d ]]
}

# Every file to install, as "MODE SOURCE DESTINATION" lines (destination without DESTDIR).
files() {
    echo "755 $BOXTOP $PREFIX/bin/boxtop"
    local page section
    for page in "$GEN"/man/*.[1-9]; do
        section=${page##*.}
        echo "644 $page $PREFIX/share/man/man$section/$(basename "$page")"
    done
    echo "644 $GEN/completions/boxtop.bash $PREFIX/share/bash-completion/completions/boxtop"
    # Debian's zsh reads /usr/share/zsh/vendor-completions and /usr/local/share/zsh/site-functions.
    local zsh=site-functions
    [[ $PREFIX == /usr ]] && zsh=vendor-completions
    echo "644 $GEN/completions/_boxtop $PREFIX/share/zsh/$zsh/_boxtop"
    echo "644 $GEN/completions/boxtop.fish $PREFIX/share/fish/vendor_completions.d/boxtop.fish"
    echo "644 README.md $DOC/README.md"
    local doc
    for doc in docs/*.md; do
        echo "644 $doc $DOC/$(basename "$doc")"
    done
    if wants_apparmor; then
        echo "644 assets/apparmor/boxtop $APPARMOR_FILE"
    fi
}

install_all() {
    [[ -d $GEN/man ]] || generate
    local mode source target list=()
    while read -r mode source target; do
        [[ -f $source ]] || die "$source is missing"
        install -D -m "$mode" "$source" "$DESTDIR$target"
        list+=("$target")
    done < <(files)
    list+=("$MANIFEST")
    printf '%s\n' "${list[@]}" | install -D -m 644 /dev/stdin "$DESTDIR$MANIFEST"
    say "installed ${#list[@]} files under ${DESTDIR:-/}${DESTDIR:+ }(prefix $PREFIX); the list is $MANIFEST"
    if wants_apparmor; then
        reload_apparmor
    fi
}

# The AppArmor profile lets /usr/bin/boxtop and /usr/local/bin/boxtop create user
# namespaces where the distribution restricts them (docs/apparmor.md).
reload_apparmor() {
    case $PREFIX in
        /usr | /usr/local) ;;
        *) say "note: the AppArmor profile applies to /usr/bin/boxtop and /usr/local/bin/boxtop, not $PREFIX/bin/boxtop (docs/apparmor.md)" ;;
    esac
    local command="apparmor_parser -r $APPARMOR_FILE"
    if [[ -z $DESTDIR && $EUID -eq 0 ]] && command -v apparmor_parser >/dev/null \
        && [[ -d /sys/kernel/security/apparmor ]]; then
        if apparmor_parser -r "$APPARMOR_FILE"; then
            say "loaded the AppArmor profile ($command)"
        else
            say "warning: loading the AppArmor profile failed; run: sudo $command"
        fi
    else
        say "to load the AppArmor profile: sudo $command"
    fi
}

uninstall_all() {
    local manifest=$DESTDIR$MANIFEST
    [[ -f $manifest ]] || die "$manifest is missing: nothing was installed under prefix $PREFIX (or PREFIX/DESTDIR differ from the install's)"
    local target removed=0
    while read -r target; do
        [[ $target == /* ]] || die "$manifest: '$target' is not an absolute path"
        if [[ -e $DESTDIR$target || -L $DESTDIR$target ]]; then
            rm -f "$DESTDIR$target"
            removed=$((removed + 1))
        fi
        if [[ $target == "$APPARMOR_FILE" && -z $DESTDIR && $EUID -eq 0 ]] \
            && command -v apparmor_parser >/dev/null && [[ -d /sys/kernel/security/apparmor ]]; then
            # The profile is unloaded by name; that it is not loaded is fine.
            printf 'profile boxtop {}\n' | apparmor_parser -R 2>/dev/null || true
        fi
    done <"$manifest"
    rmdir "$DESTDIR$DOC" 2>/dev/null || true
    say "removed $removed files listed in $MANIFEST"
}

case ${1:-} in
    generate) generate ;;
    install) install_all ;;
    uninstall) uninstall_all ;;
    files) files ;;
    *) die "usage: $0 generate|install|uninstall|files" ;;
esac
