# Decode MinKNOW replies from mk_call / mk_stream with RProtoBuf and the
# project's proto schema (proto/ in the libminknow_auth tree).
#
#   Rscript version_rprotobuf.R PROTO_DIR HOST PORT CA_FILE
#       connect to a MinKNOW manager (guest mode, local token or
#       PROTOCOL_TOKEN, whichever applies) and print its version and
#       positions;
#   Rscript version_rprotobuf.R PROTO_DIR
#       the same against a simulator started here from $MINKNOW_SIM
#       (target/debug/minknow-sim), which stops when this script ends.

library(minknowauth)
library(RProtoBuf)

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1L && length(args) != 4L) {
    stop("usage: version_rprotobuf.R PROTO_DIR [HOST PORT CA_FILE]")
}
proto_dir <- args[1]
readProtoFiles2(files = c("minknow_api/instance.proto", "minknow_api/manager.proto"),
                protoPath = proto_dir)

if (length(args) == 4L) {
    host <- args[2]
    port <- as.integer(args[3])
    ca <- args[4]
} else {
    sim <- Sys.getenv("MINKNOW_SIM")
    if (!nzchar(sim)) stop("give HOST PORT CA_FILE, or set MINKNOW_SIM")
    # The simulator's only output is its ready line; its standard input is
    # this pipe, so it exits (--exit-on-stdin-eof) when the script does.
    p <- processx::process$new(sim, c("--lifetime", "60", "--exit-on-stdin-eof"),
                               stdin = "|", stdout = "|", cleanup = TRUE)
    p$poll_io(10000)
    ready <- jsonlite::fromJSON(p$read_output_lines(n = 1))
    host <- "127.0.0.1"
    port <- ready$manager_port
    ca <- ready$ca
}

conn <- mk_connect(host, port, ca = ca)

# A unary call: the reply's bytes, decoded with the schema.
reply <- mk_call(conn, "/minknow_api.manager.ManagerService/get_version_info")
version <- read(P("minknow_api.instance.GetVersionInfoResponse"), reply)
cat("MinKNOW", version$minknow$full, "( bream", version$bream, ")\n")

# A server stream: flow_cell_positions sends every position (in one or
# more batches, total_count in each) and then stays open to send changes,
# so read until all are seen, then cancel it.
request <- serialize(new(P("minknow_api.manager.FlowCellPositionsRequest")), NULL)
s <- mk_stream(conn, "/minknow_api.manager.ManagerService/flow_cell_positions",
               timeout = 30)
mk_send(s, request)
mk_close_send(s)
seen <- 0L
repeat {
    msg <- mk_recv(s)
    if (is.null(msg)) break
    batch <- read(P("minknow_api.manager.FlowCellPositionsResponse"), msg)
    for (pos in batch$positions) {
        cat(sprintf("position %s: state %d, port %d\n", pos$name,
                    as.integer(pos$state), as.integer(pos$rpc_ports$secure)))
    }
    seen <- seen + length(batch$positions)
    if (seen >= batch$total_count) break
}
mk_cancel(s)
mk_close(s)
mk_close(conn)
