#!/usr/bin/env bash
# Regenerate the Go stubs under pb/ from the project's schema in proto/.
# Run from anywhere (`go generate ./...` in bindings/go runs it); commit the
# result. Needs protoc (Debian: apt-get install protobuf-compiler) and the
# Go module proxy for the two pinned generators below. Users of the module
# need neither: the generated files are committed.
set -euo pipefail

PROTOC_GEN_GO=google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC=google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
MODULE=github.com/minknow-auth/libminknow_auth/bindings/go

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT

command -v protoc >/dev/null || { echo "generate.sh needs protoc (apt-get install protobuf-compiler)" >&2; exit 1; }
GOBIN="$tools" go install "$PROTOC_GEN_GO"
GOBIN="$tools" go install "$PROTOC_GEN_GO_GRPC"

# The schema has no go_package options (it is shared with Rust and C), so
# each file's Go package is given here.
maps=(
    "minknow_api/manager.proto=$MODULE/pb/manager"
    "minknow_api/instance.proto=$MODULE/pb/instance"
    "minknow_sim/test.proto=$MODULE/pb/simtest"
)
go_opts=(--go_opt=module="$MODULE/pb" --go-grpc_opt=module="$MODULE/pb")
for m in "${maps[@]}"; do
    go_opts+=(--go_opt=M"$m" --go-grpc_opt=M"$m")
done

rm -f "$here"/manager/*.pb.go "$here"/instance/*.pb.go "$here"/simtest/*.pb.go
PATH="$tools:$PATH" protoc \
    --proto_path="$repo/proto" \
    --go_out="$here" --go-grpc_out="$here" \
    "${go_opts[@]}" \
    minknow_api/manager.proto minknow_api/instance.proto minknow_sim/test.proto
