# Sourced by the bench setup scripts: a venv under bench/.venvs made once, and quiet pip.

# pip on this machine warns about every package missing from its local file://
# indexes; keep only the lines that matter.
quiet_pip() { "$@" 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }; }

# bench_venv NAME: create bench/.venvs/NAME with ${PYTHON:-python3} if it is missing (pip
# upgraded), and set $venv to its path.
bench_venv() {
  venv="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/.venvs/$1"
  if [ ! -x "$venv/bin/python" ]; then
    echo "== creating $venv"
    mkdir -p "$(dirname "$venv")"
    "${PYTHON:-python3}" -m venv "$venv"
    quiet_pip "$venv/bin/python" -m pip install --quiet --upgrade pip
  fi
}
