#!/usr/bin/env bash
# Install what the tests need beyond Rust and a C compiler: Python grpcio
# (gRPC C-core, the interop server). Quiet when it is already there.
set -euo pipefail
req=tests/interop/requirements.txt
[ -f "$req" ] || exit 0
if python3 - "$req" <<'PY' 2>/dev/null; then exit 0; fi
import sys
from importlib.metadata import version
for line in open(sys.argv[1]):
    line = line.split('#')[0].strip()
    if line:
        name, _, wanted = line.partition('==')
        if version(name) != wanted:
            raise SystemExit(1)
PY
echo "installing Python test dependencies from $req"
python3 -m pip install --quiet --disable-pip-version-check -r "$req"
