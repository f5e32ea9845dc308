#!/usr/bin/env bash
# Install neurorx with its test extras and run the lint, the docs build and the test suite.
# Used by the README's test command and by .ci/run. `bash scripts/test.sh --slow` runs the slow, full-scale
# tests instead, beside the docs build with the example gallery executed (install included, no lint;
# .ci/run-slow). Other arguments go to pytest.
# The tests run on every core (pytest-xdist, NEURORX_TEST_WORKERS=auto); NEURORX_TEST_WORKERS=0 runs them in
# this one process. docs/dev/testing.md has the timings and what runs where.
set -euo pipefail
cd "$(dirname "$0")/.."
SLOW=0
if [ "${1:-}" = "--slow" ]; then
    SLOW=1
    shift
fi
# Resolve the interpreter once: calling it directly skips version-manager shims (pyenv's rehash
# after every pip install can wait on, and fail for, a lock another process left behind).
PY="$(python -c 'import sys; print(sys.executable)')"
"$PY" -m pip install --quiet "torch==2.13.0"
"$PY" -m pip install --quiet -e ".[test,docs,data]"
# --dist loadgroup: tests sharing a module- or session-scoped fixture run on one worker (tests/conftest.py)
PYTEST=("$PY" -m pytest -q -p no:cacheprovider -n "${NEURORX_TEST_WORKERS:-auto}" --dist loadgroup)
if [ "$SLOW" = 1 ]; then
    # the example gallery (protocols/) executed at its small sizes (NEURORX_EXAMPLE_SIZE=full: in full)
    EXAMPLES="${NEURORX_EXAMPLE_SIZE:-small}"
    SELECT=(-m slow)
else
    "$PY" -m ruff check .
    # the gallery's pages without running the scripts: the tests run each script at the same small sizes
    # (tests/protocols_scripts, tests/ei/test_protocol_script.py); the slow job runs the gallery
    EXAMPLES="${NEURORX_EXAMPLE_SIZE:-none}"
    SELECT=()
fi
# The docs build is one process, so it runs beside the tests (which fill the other cores); its log is shown if
# it fails.
DOCS_PID=""
if [ -f mkdocs.yml ]; then
    DOCS_LOG="$(mktemp)"
    NEURORX_EXAMPLE_SIZE="$EXAMPLES" "$PY" -m mkdocs build --strict --quiet \
        --site-dir "$(mktemp -d)" >"$DOCS_LOG" 2>&1 &
    DOCS_PID=$!
fi
STATUS=0
"${PYTEST[@]}" ${SELECT[@]+"${SELECT[@]}"} "$@" || STATUS=$?
if [ -n "$DOCS_PID" ] && ! wait "$DOCS_PID"; then
    cat "$DOCS_LOG" >&2
    echo "scripts/test.sh: the docs build failed (its log is above)" >&2
    STATUS=1
fi
exit "$STATUS"
