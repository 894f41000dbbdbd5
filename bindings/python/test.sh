#!/usr/bin/env bash
# Build the gtm_infra wheel (maturin, release, abi3), install it into a fresh virtual
# environment, check the stubs with mypy.stubtest and run the pytest suite.
# Works on a fresh machine with python3 (>= 3.10) and cargo: installs maturin, pytest,
# pytest-asyncio and mypy itself (from PyPI) into virtual environments under target/.
# Exits non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
work="$root/target/python"
started=$SECONDS

say() { printf '\n== %s (%ss)\n' "$*" "$((SECONDS - started))"; }

say "build tools"
if [ ! -x "$work/build-venv/bin/maturin" ]; then
    rm -rf "$work/build-venv"
    "$python" -m venv "$work/build-venv"
    "$work/build-venv/bin/pip" install --quiet --upgrade pip
    "$work/build-venv/bin/pip" install --quiet "maturin>=1.9,<2"
fi

say "wheel (maturin build --release)"
rm -rf "$work/wheels"
(cd "$here" && "$work/build-venv/bin/maturin" build --release --out "$work/wheels")
wheel="$(ls "$work"/wheels/gtm_infra-*.whl)"
echo "built $wheel"

say "fresh virtual environment with the wheel alone"
rm -rf "$work/test-venv"
"$python" -m venv "$work/test-venv"
venv_py="$work/test-venv/bin/python"
"$venv_py" -m pip install --quiet "$wheel"
# Nothing but pip and the wheel is installed: the package must import on its own.
(cd "$work" && "$venv_py" -c "import gtm_infra, sys; print('imported gtm_infra', gtm_infra.__version__, 'from', gtm_infra.__file__)")

say "test dependencies"
"$venv_py" -m pip install --quiet "pytest>=8" "pytest-asyncio>=0.24" "mypy>=1.11"

say "mypy.stubtest"
(cd "$work" && "$venv_py" -m mypy.stubtest gtm_infra._native)

say "mypy on the package and the example"
(cd "$work" && "$venv_py" -m mypy --strict --no-incremental --cache-dir=/dev/null -p gtm_infra \
    && "$venv_py" -m mypy --strict --no-incremental --cache-dir=/dev/null "$root/examples/python/quickstart.py")

say "example (sync and asyncio)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$venv_py" "$root/examples/python/quickstart.py" "$tmp/sync.db" | tail -n 3
"$venv_py" "$root/examples/python/quickstart.py" "$tmp/async.db" --async | tail -n 3

say "pytest"
(cd "$here" && "$venv_py" -m pytest -q -p no:cacheprovider tests "$@")

say "done"
