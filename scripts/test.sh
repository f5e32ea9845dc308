#!/usr/bin/env bash
# Install neurorx with its test extras and run the lint, the docs build and the test suite.
# Used by the README's test command and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
# Resolve the interpreter once: calling it directly skips version-manager shims (pyenv's rehash
# after every pip install can wait on, and fail for, a lock another process left behind).
PY="$(python -c 'import sys; print(sys.executable)')"
"$PY" -m pip install --quiet "torch==2.13.0"
"$PY" -m pip install --quiet -e ".[test,docs,data]"
"$PY" -m ruff check .
# The docs build runs the example gallery (protocols/) at its small sizes; NEURORX_EXAMPLE_SIZE=full runs it in full.
if [ -f mkdocs.yml ]; then
    NEURORX_EXAMPLE_SIZE="${NEURORX_EXAMPLE_SIZE:-small}" "$PY" -m mkdocs build --strict --quiet --site-dir "$(mktemp -d)"
fi
"$PY" -m pytest -q -p no:cacheprovider "$@"
