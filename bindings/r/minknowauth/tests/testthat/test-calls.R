# Raw calls and streams of every kind.

version_method <- "/minknow_api.manager.ManagerService/get_version_info"

test_that("a raw unary call returns the reply's bytes", {
    sim <- start_sim()
    conn <- connect_sim(sim)
    reply <- mk_call(conn, version_method)
    expect_type(reply, "raw")
    f <- pb_decode(reply)
    minknow <- pb_decode(pb_field(f, 1))
    expect_identical(pb_string(minknow, 4), "6.3.7-sim")
    expect_equal(pb_field(minknow, 1), 6)
    expect_equal(pb_field(minknow, 2), 3)
    expect_equal(pb_field(minknow, 3), 7)
    expect_identical(pb_string(f, 2), mk_version(conn)$bream)

    payload <- as.raw(c(0:255, 0:255))
    echoed <- pb_decode(mk_call(conn, "/minknow_sim.TestService/echo",
                                c(pb_bytes(1, payload), pb_uint(2, 77)), timeout = 5))
    expect_identical(pb_field(echoed, 1), payload)
    expect_equal(pb_field(echoed, 2), 77)
    # An empty request is an empty message.
    expect_identical(pb_decode(mk_call(conn, "/minknow_sim.TestService/echo")), list())
})

test_that("a server stream gives its messages, then NULL", {
    sim <- start_sim()
    conn <- connect_sim(sim)
    s <- mk_stream(conn, "/minknow_sim.TestService/server_stream", timeout = 30)
    expect_s3_class(s, "minknow_stream")
    expect_output(print(s), "server_stream (open)", fixed = TRUE)
    mk_send(s, c(pb_uint(1, 3), pb_uint(2, 16)))
    mk_close_send(s)
    got <- list()
    for (i in 1:3) got[[i]] <- mk_recv(s)
    expect_true(all(vapply(got, is.raw, TRUE)))
    chunks <- lapply(got, pb_decode)
    expect_identical(vapply(chunks, function(f) length(pb_field(f, 1)), 1L), c(16L, 16L, 16L))
    expect_equal(vapply(chunks, function(f) pb_field(f, 2, 0), 0), c(0, 1, 2))
    expect_null(mk_recv(s))
    expect_null(mk_recv(s))
    expect_true(mk_close(s))
    expect_false(mk_close(s))
    expect_minknow_error(mk_recv(s), "CLOSED")
})

test_that("a client stream is summed up by the server", {
    sim <- start_sim()
    conn <- connect_sim(sim)
    s <- mk_stream(conn, "/minknow_sim.TestService/client_stream")
    for (i in 1:4) mk_send(s, pb_bytes(1, as.raw(rep(i, 10))))
    mk_close_send(s)
    mk_close_send(s) # idempotent
    summary <- pb_decode(mk_recv(s))
    expect_equal(pb_field(summary, 1), 4)
    expect_equal(pb_field(summary, 2), 40)
    expect_null(mk_recv(s))
    expect_minknow_error(mk_send(s, raw()), "INVALID_STATE")
})

test_that("a bidirectional stream echoes each message as it comes", {
    sim <- start_sim()
    conn <- connect_sim(sim)
    s <- mk_stream(conn, "/minknow_sim.TestService/bidi_echo")
    for (i in 1:5) {
        msg <- c(pb_bytes(1, sprintf("message %d", i)), pb_uint(2, i))
        mk_send(s, msg)
        back <- pb_decode(mk_recv(s))
        expect_identical(pb_string(back, 1), sprintf("message %d", i))
        expect_equal(pb_field(back, 2), i)
    }
    mk_close_send(s)
    expect_null(mk_recv(s))
})

test_that("cancel ends a stream with CANCELLED; deadlines with DEADLINE_EXCEEDED", {
    sim <- start_sim()
    conn <- connect_sim(sim)
    s <- mk_stream(conn, "/minknow_sim.TestService/server_stream")
    mk_send(s, c(pb_uint(1, 100), pb_uint(2, 8), pb_uint(3, 20000)))
    mk_close_send(s)
    expect_type(mk_recv(s), "raw")
    mk_cancel(s)
    mk_cancel(s)
    elapsed <- system.time(expect_minknow_error(mk_recv(s), "CANCELLED"))[["elapsed"]]
    expect_lt(elapsed, 5)

    s <- mk_stream(conn, "/minknow_sim.TestService/server_stream", timeout = 0.5)
    mk_send(s, c(pb_uint(1, 2), pb_uint(2, 8), pb_uint(3, 20000)))
    mk_close_send(s)
    expect_type(mk_recv(s), "raw")
    expect_minknow_error(mk_recv(s), "DEADLINE_EXCEEDED")
    elapsed <- system.time(expect_minknow_error(
        mk_call(conn, "/minknow_sim.TestService/server_stream",
                c(pb_uint(1, 2), pb_uint(3, 20000)), timeout = 0.5),
        "DEADLINE_EXCEEDED"))[["elapsed"]]
    expect_lt(elapsed, 5)
})

test_that("mk_call on a streaming method says it streams", {
    sim <- start_sim()
    conn <- connect_sim(sim)
    e <- expect_minknow_error(
        mk_call(conn, "/minknow_sim.TestService/server_stream", pb_uint(1, 2)),
        "BAD_RESPONSE")
    expect_match(conditionMessage(e), "mk_stream")
    e <- expect_minknow_error(
        mk_call(conn, "/minknow_sim.TestService/server_stream", pb_uint(1, 0)),
        "BAD_RESPONSE")
    expect_match(conditionMessage(e), "without a reply")
})
