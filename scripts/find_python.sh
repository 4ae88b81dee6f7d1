#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter, or explains what to install.
# Usage: scripts/find_python.sh [candidate]
# Tries, in order: the candidate ($PYTHON), python3.10 on PATH, pyenv's 3.10
# (its shim only answers when PYENV_VERSION is set), then common install paths.
set -u
is_310() { "$@" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }
resolve() { "$@" -c 'import sys; print(sys.executable)'; }

for cand in "${1:-}" python3.10; do
  [ -n "$cand" ] || continue
  if is_310 "$cand"; then resolve "$cand"; exit 0; fi
  if is_310 env PYENV_VERSION=3.10 "$cand"; then resolve env PYENV_VERSION=3.10 "$cand"; exit 0; fi
done
if command -v pyenv >/dev/null 2>&1; then
  p=$(PYENV_VERSION=3.10 pyenv which python3.10 2>/dev/null) && is_310 "$p" && { echo "$p"; exit 0; }
fi
for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do
  [ -x "$p" ] && is_310 "$p" && { echo "$p"; exit 0; }
done
cat >&2 <<'MSG'
error: Python 3.10 was not found.
  i2v_plugin pins torch 2.9.1 and the sal-detectron2 0.7.2 wheel, which need Python 3.10.
  Install it, for example:
    pyenv install 3.10            (then this Makefile finds it by itself)
    apt-get install python3.10 python3.10-venv
  or point the Makefile at one:  make test PYTHON=/path/to/python3.10
MSG
exit 1
