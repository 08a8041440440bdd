#!/usr/bin/env bash
# Builds boxtop's release binary, target/release/boxtop, the fastest way this machine
# allows, and says which one it took:
#
#   1. static-pie against musl, with the distribution's static libseccomp. musl starts a
#      process without glibc's probing of the CPU's caches (dozens of CPUID instructions,
#      each a trap to the hypervisor on a virtual machine): about 0.5 ms less per launch
#      (docs/benchmarks.md). Needs rustup's musl target (added here if missing), a C
#      compiler and libseccomp.a. libseccomp.a was compiled against glibc; of what it
#      calls, musl lacks only __fprintf_chk, which scripts/musl-fortify-shim.c gives it.
#   2. static-pie against glibc (glibc and libseccomp included).
#   3. dynamic, as a plain `cargo build --release` or `cargo install --path .` links it.
#
# Environment: CARGO (cargo), BOXTOP_STATIC (auto; `glibc` skips 1, `no` skips 1 and 2).
set -euo pipefail

cd "$(dirname "$0")/.."
readonly CARGO=${CARGO:-cargo}
readonly OUT=target/release/boxtop
readonly MODE=${BOXTOP_STATIC:-auto}

say() { printf 'build: %s\n' "$*" >&2; }

host=$(rustc -vV | sed -n 's/^host: //p')
seccomp_libdir=$(pkg-config --variable=libdir libseccomp 2>/dev/null || true)

install_binary() {
    install -D -m 755 "$1" "$OUT"
    "$OUT" --version >/dev/null
    say "$OUT: $2"
}

musl_build() {
    local musl=${host/-gnu/-musl} link=target/musl-link
    [[ $musl == *-linux-musl* && -f $seccomp_libdir/libseccomp.a ]] || return 1
    command -v cc >/dev/null || return 1
    if ! rustup target list --installed 2>/dev/null | grep -qx "$musl"; then
        say "adding rustup's $musl target (Rust's standard library for musl)"
        rustup target add "$musl" >&2 || return 1
    fi
    # libseccomp.a alone in a folder of its own: the folder of the system's libraries
    # would also offer the linker glibc's libc.a.
    mkdir -p "$link"
    cp "$seccomp_libdir/libseccomp.a" "$link/"
    cc -O2 -U_FORTIFY_SOURCE -fno-stack-protector -fPIC \
        -c scripts/musl-fortify-shim.c -o "$link/fortify-shim.o" || return 1
    LIBSECCOMP_LINK_TYPE=static LIBSECCOMP_LIB_PATH="$PWD/$link" \
        RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=$PWD/$link/fortify-shim.o" \
        "$CARGO" build --release --target "$musl" || return 1
    install_binary "target/$musl/release/boxtop" "static-pie, musl and libseccomp linked in"
}

glibc_build() {
    [[ -n $seccomp_libdir ]] || return 1
    LIBSECCOMP_LINK_TYPE=static LIBSECCOMP_LIB_PATH="$seccomp_libdir" \
        RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
        "$CARGO" build --release --target "$host" || return 1
    install_binary "target/$host/release/boxtop" "static-pie, glibc and libseccomp linked in"
}

if [[ $MODE == auto ]] && musl_build; then
    exit 0
fi
[[ $MODE == auto ]] && say "the musl build failed (see above); trying glibc, statically"
if [[ $MODE != no ]] && glibc_build; then
    exit 0
fi
[[ $MODE != no ]] && say "static linking failed (static glibc or libseccomp missing); linking dynamically"
"$CARGO" build --release
say "$OUT: linked dynamically"
