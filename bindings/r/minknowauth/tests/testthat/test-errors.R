# Failures: their class, code, gRPC status and message.

test_that("the wrong CA is CERTIFICATE_VERIFY_FAILED", {
    sim <- start_sim()
    e <- expect_minknow_error(
        mk_connect("127.0.0.1", sim$manager_port, ca = sim$client_ca,
                   use_environment = FALSE),
        "CERTIFICATE_VERIFY_FAILED")
    expect_identical(e$status, 302L)
    expect_identical(e$grpc_status, NA_integer_)
    expect_match(conditionMessage(e), as.character(sim$manager_port))
    expect_s3_class(e, c("minknow_error", "error", "condition"), exact = TRUE)
    caught <- tryCatch(
        mk_connect("127.0.0.1", sim$manager_port, ca = sim$client_ca,
                   use_environment = FALSE),
        minknow_error = function(e) "caught by class")
    expect_identical(caught, "caught by class")
})

test_that("the server name is checked", {
    sim <- start_sim()
    expect_minknow_error(connect_sim(sim, server_name = "not-localhost.example"),
                         "CERTIFICATE_VERIFY_FAILED")
    expect_identical(mk_version(connect_sim(sim, server_name = "localhost"))$full,
                     "6.3.7-sim")
})

test_that("an unknown method has gRPC status 12 (UNIMPLEMENTED)", {
    sim <- start_sim()
    conn <- connect_sim(sim)
    e <- expect_minknow_error(mk_call(conn, "/minknow_api.manager.ManagerService/no_such"),
                              "RPC_FAILED")
    expect_identical(e$grpc_status, 12L)
    expect_identical(e$status, 400L)
    expect_match(conditionMessage(e), "no_such")
    s <- mk_stream(conn, "/minknow_sim.NoService/stream")
    mk_close_send(s)
    e <- expect_minknow_error(mk_recv(s), "RPC_FAILED")
    expect_identical(e$grpc_status, 12L)
    expect_minknow_error(mk_call(conn, "not a method path"), "INVALID_ARGUMENT")
    # The connection still works after failed calls.
    expect_identical(mk_version(conn)$full, "6.3.7-sim")
})

test_that("bad files and identities fail before any network I/O", {
    sim <- start_sim()
    missing <- file.path(tempdir(), "no-such-ca.crt")
    e <- expect_minknow_error(
        mk_connect("127.0.0.1", sim$manager_port, ca = missing, use_environment = FALSE),
        "FILE_ERROR")
    expect_match(conditionMessage(e), "no-such-ca.crt", fixed = TRUE)
    expect_minknow_error(connect_sim(sim, cert = sim$client_certificate), "INCOMPLETE_IDENTITY")
    expect_minknow_error(connect_sim(sim, cert = sim$client_certificate, key = sim$ca),
                         "BAD_KEY")
    expect_minknow_error(connect_sim(sim, token = "has spaces\nand newline"),
                         "INVALID_ARGUMENT")
    expect_error(mk_connect(port = 70000), "0 to 65535")
    expect_error(mk_connect(timeout = -1), "non-negative")
})

test_that("use after close is a minknow_error, not a crash", {
    sim <- start_sim()
    conn <- connect_sim(sim)
    s <- mk_stream(conn, "/minknow_sim.TestService/bidi_echo")
    expect_true(mk_close(conn))
    expect_false(mk_close(conn))
    for (f in list(mk_version, mk_host, mk_positions, mk_basecaller,
                   function(c) mk_call(c, "/minknow_sim.TestService/echo"),
                   function(c) mk_stream(c, "/minknow_sim.TestService/echo"),
                   function(c) mk_open_position(c, "X1"))) {
        e <- expect_minknow_error(f(conn), "CLOSED")
        expect_identical(e$status, NA_integer_)
    }
    # A stream started before the close keeps working.
    mk_send(s, pb_bytes(1, "still here"))
    expect_identical(pb_string(pb_decode(mk_recv(s)), 1), "still here")
    mk_close(s)
    expect_minknow_error(mk_send(s, raw()), "CLOSED")
    expect_minknow_error(mk_close_send(s), "CLOSED")
    expect_false(mk_cancel(s))
    expect_minknow_error(mk_version("not a connection"), "INVALID_ARGUMENT")
    expect_minknow_error(mk_recv(conn), "INVALID_ARGUMENT")
})

test_that("finalizers free what is no longer referenced", {
    sim <- start_sim()
    for (i in 1:20) {
        conn <- connect_sim(sim)
        s <- mk_stream(conn, "/minknow_sim.TestService/bidi_echo")
    }
    rm(conn, s)
    gc()
    expect_identical(mk_version(connect_sim(sim))$full, "6.3.7-sim")
})

test_that("minknow_error() builds the condition", {
    e <- minknow_error("UNAUTHENTICATED", "no token", 401L, 16L)
    expect_s3_class(e, c("minknow_error", "error", "condition"), exact = TRUE)
    expect_identical(e$code, "UNAUTHENTICATED")
    expect_identical(e$grpc_status, 16L)
    expect_identical(conditionMessage(e), "no token")
})
