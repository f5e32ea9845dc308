#!/usr/bin/env bash
# Install neurorx with its test extras and run the lint, the docs build and the test suite.
# Used by the README's test command and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet "torch==2.13.0"
python -m pip install --quiet -e ".[test,docs]"
python -m ruff check .
if [ -f mkdocs.yml ]; then python -m mkdocs build --strict --quiet --site-dir "$(mktemp -d)"; fi
python -m pytest -q -p no:cacheprovider "$@"
