# Shared steps of the admin scripts: root check, Debian packages, the Rust
# toolchain and the library build. Source it; it defines functions only.

# The repository root, whatever the caller's working directory.
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LIBRARY="$REPO_ROOT/target/release/libhttpd_chroot.so"

say() {
    printf '%s\n' "$*" >&2
}

die() {
    printf '%s: error: %s\n' "$(basename "$0")" "$*" >&2
    exit 1
}

require_root() {
    [ "$(id -u)" -eq 0 ] || die "must run as root: chroot(2) and apt-get need it. Try: sudo $0 $*"
}

# Installs the Debian packages among "$@" that are missing.
ensure_packages() {
    local missing=()
    local package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0

    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || die "apt-get update failed; check the network and /etc/apt/sources.list"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
}

# Puts cargo on PATH: rustup's if present, else Debian 12's cargo-web (Rust 1.96).
ensure_cargo() {
    if [ -f "$HOME/.cargo/env" ]; then
        # shellcheck disable=SC1091
        . "$HOME/.cargo/env"
    fi
    command -v cargo >/dev/null 2>&1 && return 0
    ensure_packages cargo-web gcc libc6-dev
    command -v cargo >/dev/null 2>&1 || die "cargo still missing after installing cargo-web"
}

# Builds target/release/libhttpd_chroot.so and the admin program,
# target/release/httpd-chroot-admin.
build_library() {
    ensure_cargo
    say "building the library and httpd-chroot-admin (cargo build --release --workspace)"
    (cd "$REPO_ROOT" && cargo build --release --locked --quiet --workspace) || die "cargo build --release failed"
    [ -f "$LIBRARY" ] || die "build finished but $LIBRARY is missing"
}
