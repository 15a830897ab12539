#!/usr/bin/env python3
"""A MinKNOW-shaped gRPC server on gRPC C-core (grpcio), for tests/interop.rs.

MinKNOW is a C++ program on gRPC C-core with BoringSSL; so is grpcio. This
server plays the parts of MinKNOW that the library talks to: a manager,
one running flow cell position and one that is not, a basecaller, and the
test service of proto/minknow_sim/test.proto on every port.

Each part listens on two kinds of port, because grpcio cannot make the port
MinKNOW has (client certificates verified when presented, not required):
its `require_client_auth=False` means "never ask for a certificate". So:
  - "cert" ports ask for and require a client certificate, verified by
    BoringSSL against the trusted client CAs (like MinKNOW's 9501 when a
    client presents one);
  - "token" ports ask for none (like 9502), and calls need a token.
Calls are accepted with a verified client certificate or with the local or
developer token in `local-auth`; everything else is UNAUTHENTICATED, except
`local_authentication_token_path`, as in MinKNOW.

Every part listens on each `--listen` address, on the same port when the
OS allows. When it is listening it prints one JSON line (the ready line)
with the ports, the token file and tokens, and the certificate paths; it
exits when stdin closes or after `--lifetime` seconds, whichever is first.
"""

import argparse
import datetime
import importlib
import json
import os
import secrets
import sys
import threading
from concurrent import futures

import grpc

MAX_MESSAGE_BYTES = 16 * 1024 * 1024
SHAPES = ("v1", "cn_only", "san", "regen")
MODES = ("cert", "token")
ROLES = ("manager", "position", "basecaller")
POSITION_RUNNING = "X1"
POSITION_STOPPED = "X2"
STATE_RUNNING = 1
STATE_HARDWARE_REMOVED = 3
VERSION = {"major": 6, "minor": 3, "patch": 7, "full": "6.3.7"}
BREAM = "8.2.5"
DISTRIBUTION = "25.03.9"
HOST = {
    "product_code": "GRD-INTEROP",
    "description": "grpcio interop server",
    "serial": "GXB-INTEROP-1",
    "network_name": "interop-host",
}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certs", required=True, help="output directory of make_certs.sh")
    parser.add_argument("--shape", choices=SHAPES, required=True, help="server certificate")
    parser.add_argument("--stubs", required=True, help="directory of the generated stubs")
    parser.add_argument("--state-dir", required=True, help="where the token file goes")
    parser.add_argument("--listen", action="append", help="loopback address (repeatable)")
    parser.add_argument(
        "--client-ca", action="append", help="trusted client CA file (repeatable)"
    )
    parser.add_argument("--lifetime", type=float, default=120.0, help="seconds, at most")
    args = parser.parse_args(argv)
    args.listen = [unbracket(a) for a in (args.listen or ["127.0.0.1", "::1"])]
    for address in args.listen:
        # Loopback only: these tests never listen where others could reach.
        if address not in ("127.0.0.1", "::1"):
            parser.error(f"--listen {address}: only 127.0.0.1 and ::1 are allowed")
    if not args.client_ca:
        args.client_ca = [os.path.join(args.certs, "client", "trusted.pem")]
    return args


def unbracket(address):
    return address[1:-1] if address.startswith("[") and address.endswith("]") else address


def bracket(address):
    return f"[{address}]" if ":" in address else address


def load_stubs(stubs_dir):
    """Import the modules grpc_tools.protoc generated from proto/."""
    sys.path.insert(0, stubs_dir)
    names = {
        "manager": "minknow_api.manager_pb2",
        "manager_grpc": "minknow_api.manager_pb2_grpc",
        "instance": "minknow_api.instance_pb2",
        "instance_grpc": "minknow_api.instance_pb2_grpc",
        "test": "minknow_sim.test_pb2",
        "test_grpc": "minknow_sim.test_pb2_grpc",
    }
    return argparse.Namespace(**{k: importlib.import_module(v) for k, v in names.items()})


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write_token_file(state_dir, token):
    """Write the local token file as MinKNOW does: token, then RFC 3339 expiry."""
    expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    body = json.dumps({"token": token, "expires": expires.isoformat(timespec="microseconds")})
    path = os.path.join(state_dir, "local-token.json")
    # Write then rename, so a reader never sees half a file.
    partial = path + ".partial"
    with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(body)
    os.replace(partial, path)
    return path


class Auth:
    """The server's accepted credentials, and the check every RPC makes."""

    def __init__(self, local_token, developer_token):
        self.tokens = {local_token: "local", developer_token: "developer"}

    def token(self, context):
        """(header, kind): which token header came, and which token it matched."""
        for key, value in context.invocation_metadata():
            if key == "local-auth":
                return key, self.tokens.get(value, "")
        return "", ""

    @staticmethod
    def client_cn(context):
        """The verified client certificate's CN ("" when none was presented)."""
        names = context.auth_context().get("x509_common_name") or [b""]
        return names[0].decode()

    def check(self, context):
        if self.token(context)[1] or self.client_cn(context):
            return
        context.abort(grpc.StatusCode.UNAUTHENTICATED, "no valid token or client certificate")


class Part:
    """One server (a role in one mode), and the ports it listens on."""

    def __init__(self, role, mode):
        self.role = role
        self.mode = mode
        self.ports = {}
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=16),
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                # A port already taken must fail to bind, not be shared.
                ("grpc.so_reuseport", 0),
            ],
        )

    def bind(self, addresses, credentials):
        """Listen on every address, on one port when the OS allows."""
        shared = 0
        for address in addresses:
            port = self._try_bind(address, shared, credentials)
            if not port and shared:
                port = self._try_bind(address, 0, credentials)
            if not port:
                raise SystemExit(f"{self.role}/{self.mode}: cannot listen on {address}")
            shared = shared or port
            self.ports[address] = port

    def _try_bind(self, address, port, credentials):
        try:
            return self.server.add_secure_port(f"{bracket(address)}:{port}", credentials)
        except RuntimeError:
            return 0

    def port_for(self, context):
        """This part's port on the address family the caller came in on."""
        ipv6 = context.peer().startswith("ipv6:")
        for address, port in self.ports.items():
            if (":" in address) == ipv6:
                return port
        return 0


def version_response(stubs):
    return stubs.instance.GetVersionInfoResponse(
        minknow=stubs.instance.GetVersionInfoResponse.MinknowVersion(**VERSION),
        bream=BREAM,
        distribution_version=DISTRIBUTION,
    )


def wait_until_cancelled(context, deadline):
    """Hold a stream open until the client cancels or the server stops."""
    ended = threading.Event()
    if context.add_callback(ended.set):
        ended.wait(max(0.0, deadline - now()))


def now():
    return datetime.datetime.now().timestamp()


def make_manager(stubs, auth, parts, mode, token_file, deadline):
    """ManagerService for the manager part in `mode`."""
    position, basecaller = parts[("position", mode)], parts[("basecaller", mode)]
    m = stubs.manager

    class Manager(stubs.manager_grpc.ManagerServiceServicer):
        def describe_host(self, request, context):
            auth.check(context)
            return m.DescribeHostResponse(**HOST)

        def get_version_info(self, request, context):
            auth.check(context)
            return version_response(stubs)

        def flow_cell_positions(self, request, context):
            auth.check(context)
            # Two pages, as MinKNOW may page a large device: the client must
            # read until it has total_count positions.
            running = m.FlowCellPosition(
                name=POSITION_RUNNING,
                state=STATE_RUNNING,
                rpc_ports=m.FlowCellPosition.RpcPorts(secure=position.port_for(context)),
                is_simulated=True,
            )
            yield m.FlowCellPositionsResponse(total_count=2, positions=[running])
            stopped = m.FlowCellPosition(
                name=POSITION_STOPPED,
                state=STATE_HARDWARE_REMOVED,
                error_info="no device is connected",
            )
            yield m.FlowCellPositionsResponse(total_count=2, positions=[stopped])
            # MinKNOW keeps the stream open to report changes.
            wait_until_cancelled(context, deadline)

        def local_authentication_token_path(self, request, context):
            # Callable without credentials: it is how a client finds them.
            return m.LocalAuthenticationTokenPathResponse(path=token_file)

        def basecaller_api(self, request, context):
            auth.check(context)
            return m.BasecallerApiResponse(secure=basecaller.port_for(context))

    return Manager()


def make_instance(stubs, auth):
    class Instance(stubs.instance_grpc.InstanceServiceServicer):
        def get_version_info(self, request, context):
            auth.check(context)
            return version_response(stubs)

    return Instance()


def make_test_service(stubs, auth, part, deadline):
    """minknow_sim.TestService for one part: echo, streams, and whoami."""
    t = stubs.test

    class TestService(stubs.test_grpc.TestServiceServicer):
        def echo(self, request, context):
            auth.check(context)
            return request

        def server_stream(self, request, context):
            auth.check(context)
            pause = threading.Event()
            for sequence in range(request.count):
                if sequence and request.interval_ms:
                    # Waits on an event that is never set: a bounded pause.
                    pause.wait(min(request.interval_ms / 1000.0, max(0.0, deadline - now())))
                yield t.Chunk(payload=bytes([sequence % 256]) * request.size, sequence=sequence)

        def client_stream(self, request_iterator, context):
            auth.check(context)
            count = size = 0
            for chunk in request_iterator:
                count += 1
                size += len(chunk.payload)
            return t.StreamSummary(count=count, bytes=size)

        def bidi_echo(self, request_iterator, context):
            auth.check(context)
            for chunk in request_iterator:
                yield chunk

        def whoami(self, request, context):
            auth.check(context)
            header, kind = auth.token(context)
            return t.WhoAmIResponse(
                token_header=header,
                token_kind=kind,
                client_certificate_subject=auth.client_cn(context),
                port=part.port_for(context),
            )

    return TestService()


def credentials_for(mode, key, chain, client_cas):
    if mode == "cert":
        return grpc.ssl_server_credentials(
            [(key, chain)], root_certificates=client_cas, require_client_auth=True
        )
    return grpc.ssl_server_credentials([(key, chain)])


def build(args, stubs, auth, token_file, deadline):
    """Every part, bound to its ports, with its services; not yet started."""
    shape_dir = os.path.join(args.certs, args.shape)
    key = read(os.path.join(shape_dir, "server.key"))
    chain = read(os.path.join(shape_dir, "server.crt"))
    client_cas = b"".join(read(path) for path in args.client_ca)
    parts = {(role, mode): Part(role, mode) for role in ROLES for mode in MODES}
    for (role, mode), part in parts.items():
        part.bind(args.listen, credentials_for(mode, key, chain, client_cas))
        test_service = make_test_service(stubs, auth, part, deadline)
        stubs.test_grpc.add_TestServiceServicer_to_server(test_service, part.server)
        if role == "manager":
            manager = make_manager(stubs, auth, parts, mode, token_file, deadline)
            stubs.manager_grpc.add_ManagerServiceServicer_to_server(manager, part.server)
        elif role == "position":
            instance = make_instance(stubs, auth)
            stubs.instance_grpc.add_InstanceServiceServicer_to_server(instance, part.server)
    return parts


def ready_line(args, parts, token_file, local_token, developer_token):
    shape_dir = os.path.join(args.certs, args.shape)
    ports = {role: {mode: parts[(role, mode)].ports for mode in MODES} for role in ROLES}
    return {
        "shape": args.shape,
        "ports": ports,
        "positions": [
            {"name": POSITION_RUNNING, "state": STATE_RUNNING},
            {"name": POSITION_STOPPED, "state": STATE_HARDWARE_REMOVED},
        ],
        "token_file": token_file,
        "token": local_token,
        "developer_token": developer_token,
        "ca": os.path.join(shape_dir, "ca.crt"),
        "server_chain": os.path.join(shape_dir, "server.crt"),
        "server_key": os.path.join(shape_dir, "server.key"),
        "client_ca": args.client_ca,
        "version": dict(VERSION, bream=BREAM, distribution=DISTRIBUTION),
        "host": HOST,
    }


def wait_for_end(lifetime):
    """Return when stdin closes (the test process is gone) or the lifetime ends."""
    closed = threading.Event()

    def drain():
        # os.read, not sys.stdin: a daemon thread blocked inside the
        # buffered reader holds its lock and aborts interpreter shutdown.
        while os.read(0, 4096):
            pass
        closed.set()

    threading.Thread(target=drain, daemon=True).start()
    closed.wait(lifetime)


def main(argv):
    args = parse_args(argv)
    deadline = now() + args.lifetime
    stubs = load_stubs(args.stubs)
    local_token, developer_token = secrets.token_hex(16), secrets.token_hex(16)
    token_file = write_token_file(args.state_dir, local_token)
    auth = Auth(local_token, developer_token)
    parts = build(args, stubs, auth, token_file, deadline)
    for part in parts.values():
        part.server.start()
    line = ready_line(args, parts, token_file, local_token, developer_token)
    print(json.dumps(line), flush=True)
    wait_for_end(args.lifetime)
    stopped = [part.server.stop(grace=0) for part in parts.values()]
    for event in stopped:
        event.wait(5)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
