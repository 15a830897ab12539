# RProtoBuf with the project's proto schema decodes what mk_call and
# mk_stream return; the installed example does the same.

test_that("RProtoBuf decodes get_version_info and flow_cell_positions", {
    RProtoBuf::readProtoFiles2(
        files = c("minknow_api/instance.proto", "minknow_api/manager.proto"),
        protoPath = proto_dir())
    sim <- start_sim()
    conn <- connect_sim(sim)
    reply <- mk_call(conn, "/minknow_api.manager.ManagerService/get_version_info")
    v <- RProtoBuf::read(RProtoBuf::P("minknow_api.instance.GetVersionInfoResponse"), reply)
    expect_identical(v$minknow$full, "6.3.7-sim")
    expect_identical(v$minknow$major, 6L)

    s <- mk_stream(conn, "/minknow_api.manager.ManagerService/flow_cell_positions",
                   timeout = 30)
    mk_send(s, raw())
    mk_close_send(s)
    batch <- RProtoBuf::read(RProtoBuf::P("minknow_api.manager.FlowCellPositionsResponse"),
                             mk_recv(s))
    expect_identical(batch$total_count, 3L)
    names <- vapply(batch$positions, function(p) p$name, "")
    ports <- vapply(batch$positions, function(p) as.integer(p$rpc_ports$secure), 1L)
    expect_identical(names, c("X1", "X2", "X3"))
    expect_identical(ports, as.integer(sim$positions$port))
    mk_cancel(s)
    expect_minknow_error(mk_recv(s), "CANCELLED")
})

test_that("the RProtoBuf example runs against a simulator", {
    example <- system.file("examples", "version_rprotobuf.R", package = "minknowauth")
    expect_true(file.exists(example))
    out <- processx::run(
        file.path(R.home("bin"), "Rscript"), c("--vanilla", example, proto_dir()),
        env = c("current", MINKNOW_SIM = sim_binary(),
                R_LIBS = paste(.libPaths(), collapse = .Platform$path.sep)),
        timeout = 60, error_on_status = FALSE, stderr_to_stdout = TRUE)
    expect_identical(out$status, 0L, info = out$stdout)
    lines <- strsplit(out$stdout, "\n", fixed = TRUE)[[1]]
    expect_true("MinKNOW 6.3.7-sim ( bream 8.3.2 )" %in% lines, info = out$stdout)
    expect_identical(sum(grepl("^position X[123]: state [13], port [0-9]+$", lines)), 3L,
                     info = out$stdout)
    expect_true("position X3: state 3, port 0" %in% lines, info = out$stdout)
})
