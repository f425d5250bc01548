#!/usr/bin/env bash
# Builds bankflow-wasm (bankflow-core compiled to wasm32-unknown-unknown) into a Node package at
# bankflow-wasm/pkg, installing only what is missing. Idempotent; exits non-zero on any failure.
#
#   scripts/build-wasm.sh          build bankflow-wasm/pkg (wasm-bindgen --target nodejs)
#   scripts/build-wasm.sh --web    also build bankflow-wasm/pkg-web (--target web, for browsers)
#   scripts/build-wasm.sh --test   build both, then run bankflow-wasm/test with `node --test`, the
#                                  example, and `tsc --noEmit` over test/types.ts (if tsc exists)
#
# Toolchain, and why: the rustup toolchain here ships no wasm32 standard library, so the build
# uses Debian's `rustc-web`/`cargo-web` (a rustc that knows the wasm targets), `rust-web-src`
# (the std sources, rebuilt for wasm32 with -Zbuild-std; RUSTC_BOOTSTRAP=1 unlocks that flag on
# a stable compiler) and `lld` (wasm-ld, the linker). wasm-bindgen-cli must be exactly the
# version of the wasm-bindgen crate in bankflow-wasm/Cargo.lock (the two share a schema), so it
# is installed from crates.io at that pinned version into $CARGO_HOME/bin.
#
# Cold build on a 2-core machine: about 2-3 minutes for the wasm module (std included) plus a
# few minutes for a first `cargo install wasm-bindgen-cli`; both are cached afterwards.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CRATE="$ROOT/bankflow-wasm"
CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
DEBIAN_PACKAGES=(rustc-web cargo-web rust-web-src lld)
DEB_RUSTC=/usr/bin/rustc
DEB_CARGO=/usr/bin/cargo
WASM_TARGET="${BANKFLOW_WASM_TARGET_DIR:-${BANKFLOW_TOOLS_DIR:-$HOME/.cache/bankflow-tools}/wasm-target}"

want_test=0
want_web=0
for arg in "$@"; do
    case "$arg" in
        --test) want_test=1 want_web=1 ;; # the tests cover both packages
        --web) want_web=1 ;;
        -h | --help)
            sed -n '2,9p' "$0"
            exit 0
            ;;
        *)
            echo "build-wasm: unknown argument $arg (try --help)" >&2
            exit 2
            ;;
    esac
done

step_started=0
step() {
    step_started=$SECONDS
    echo "==> $*"
}
step_done() {
    echo "    done in $((SECONDS - step_started))s"
}

# ---------------------------------------------------------------- 1. Debian toolchain
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    step "installing Debian packages: ${missing[*]}"
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=()
    elif command -v sudo >/dev/null; then
        SUDO=(sudo)
    else
        echo "build-wasm: need root (or sudo) to apt-get install ${missing[*]}" >&2
        exit 1
    fi
    "${SUDO[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
    step_done
fi
for tool in "$DEB_RUSTC" "$DEB_CARGO" wasm-ld node; do
    command -v "$tool" >/dev/null || {
        echo "build-wasm: $tool not found" >&2
        exit 1
    }
done

# ---------------------------------------------------------------- 2. the wasm module
step "cargo build bankflow-wasm for wasm32-unknown-unknown ($("$DEB_RUSTC" --version))"
(
    cd "$CRATE"
    # Its own target dir (the shared one belongs to the native workspace build), kept in the
    # tools cache: the wasm std (-Zbuild-std) and the registry crates compile once per machine,
    # not once per clone (a clean clone's CI run spent ~5 of its 7.5 wasm minutes on them).
    # Our own crates are rebuilt whenever their sources change, as cargo always does.
    RUSTC_BOOTSTRAP=1 RUSTC="$DEB_RUSTC" CARGO_TARGET_DIR="$WASM_TARGET" \
        CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld \
        "$DEB_CARGO" build --release -Zbuild-std=std,panic_abort --target wasm32-unknown-unknown
)
WASM="$WASM_TARGET/wasm32-unknown-unknown/release/bankflow_wasm.wasm"
[ -f "$WASM" ] || {
    echo "build-wasm: $WASM was not produced" >&2
    exit 1
}
step_done

# ---------------------------------------------------------------- 3. wasm-bindgen-cli, pinned
version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$CRATE/Cargo.lock")"
if [ -z "$version" ]; then
    echo "build-wasm: no wasm-bindgen entry in $CRATE/Cargo.lock" >&2
    exit 1
fi
BINDGEN="$CARGO_HOME/bin/wasm-bindgen"
installed="$("$BINDGEN" --version 2>/dev/null | awk '{ print $2 }' || true)"
if [ "$installed" != "$version" ]; then
    step "cargo install wasm-bindgen-cli =$version (found: ${installed:-none})"
    # Not --locked: the CLI's own lockfile pins crates this toolchain may not build; the
    # version pin on the CLI is what must match.
    RUSTC="$DEB_RUSTC" "$DEB_CARGO" install wasm-bindgen-cli --version "=$version" --root "$CARGO_HOME" --force
    step_done
fi

# ---------------------------------------------------------------- 4. JS packages
bindgen() { # target out-dir
    rm -rf "$2"
    "$BINDGEN" --target "$1" --out-dir "$2" "$WASM"
    # A package.json, so `npm install bankflow-wasm/pkg` (or a file: dependency) works.
    local main=bankflow_wasm.js
    cat >"$2/package.json" <<EOF
{
  "name": "bankflow-wasm",
  "version": "$(awk -F'"' '/^version = / { print $2; exit }' "$CRATE/Cargo.toml")",
  "description": "BankFlow's engine rules and an in-memory sandbox bank, compiled to WebAssembly",
  "license": "Apache-2.0",
  "main": "$main",
  "types": "bankflow_wasm.d.ts",
  "files": ["bankflow_wasm.js", "bankflow_wasm.d.ts", "bankflow_wasm_bg.wasm", "bankflow_wasm_bg.wasm.d.ts"]$(
        [ "$1" = web ] && printf ',\n  "type": "module"'
    )
}
EOF
}
step "wasm-bindgen $version --target nodejs -> bankflow-wasm/pkg"
bindgen nodejs "$CRATE/pkg"
step_done
if ((want_web)); then
    step "wasm-bindgen $version --target web -> bankflow-wasm/pkg-web"
    bindgen web "$CRATE/pkg-web"
    step_done
fi
echo "bankflow-wasm: $(du -k "$CRATE/pkg/bankflow_wasm_bg.wasm" | cut -f1) KiB of wasm in bankflow-wasm/pkg"

# ---------------------------------------------------------------- 5. tests
if ((want_test)); then
    step "node --test bankflow-wasm/test"
    node --test "$CRATE"/test/*.test.mjs
    step_done

    step "example: node bankflow-wasm/examples/quickstart.mjs"
    node "$CRATE/examples/quickstart.mjs"
    step_done

    # The declarations' type test needs TypeScript; the frontend's devDependencies have it.
    TSC="$ROOT/frontend/node_modules/.bin/tsc"
    [ -x "$TSC" ] || TSC="$(command -v tsc || true)"
    if [ -n "$TSC" ]; then
        step "tsc --noEmit bankflow-wasm/test/types.ts ($("$TSC" --version))"
        "$TSC" --noEmit --strict --module commonjs --moduleResolution node --target es2022 \
            --lib es2022,esnext.disposable "$CRATE/test/types.ts"
        step_done
    else
        echo "==> NOT type-checked: no tsc found (npm ci in frontend/ provides one)"
    fi
fi
