#!/usr/bin/env bash
# Start minknow-sim with client certificates required, run the C example
# against it with the simulator's CA and client certificate, stop it.
set -euo pipefail
sim=${1:?usage: demo.sh MINKNOW_SIM POSITIONS}
example=${2:?usage: demo.sh MINKNOW_SIM POSITIONS}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The simulator is stopped when this script ends, and exits by itself after
# 120 s whatever happens to the script.
exec 3< <(exec "$sim" --auth client-cert --positions 4 --stopped 1 --lifetime 120 \
    2>"$work/sim.log" </dev/null)
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

# One JSON line when every port listens.
if ! read -r ready <&3; then
    echo "demo: the simulator did not start:" >&2
    cat "$work/sim.log" >&2
    exit 1
fi
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$ready" "$1"; }

port=$(field manager_port)
echo "minknow-sim is up: manager on 127.0.0.1:$port, client certificates required"
echo "+ positions --host 127.0.0.1 --port $port --ca CA --cert CHAIN --key KEY"
echo
"$example" --host 127.0.0.1 --port "$port" --ca "$(field ca)" \
    --cert "$(field client_certificate)" --key "$(field client_key)"
