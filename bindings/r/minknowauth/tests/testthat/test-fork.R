# R's parallel forks: children connect on their own; a connection made
# in the parent gives FORKED_HANDLE in a child, promptly.

test_that("forked children connect on their own", {
    sim <- start_sim()
    parent <- connect_sim(sim)
    expect_identical(mk_version(parent)$full, "6.3.7-sim")
    got <- parallel::mclapply(1:2, function(i) {
        conn <- connect_sim(sim)
        list(pid = Sys.getpid(), version = mk_version(conn)$full,
             positions = mk_positions(conn)$name)
    }, mc.cores = 2)
    for (g in got) {
        expect_false(inherits(g, "try-error"), info = paste(g))
        expect_identical(g$version, "6.3.7-sim")
        expect_identical(g$positions, c("X1", "X2", "X3"))
        expect_false(g$pid == Sys.getpid())
    }
    expect_identical(mk_version(parent)$full, "6.3.7-sim")
})

test_that("an inherited connection is FORKED_HANDLE in the child, not a hang", {
    sim <- start_sim()
    parent <- connect_sim(sim)
    stream <- mk_stream(parent, "/minknow_sim.TestService/bidi_echo")
    mk_send(stream, pb_bytes(1, "before fork"))
    expect_identical(pb_string(pb_decode(mk_recv(stream)), 1), "before fork")
    elapsed <- system.time({
        got <- parallel::mclapply(1:2, function(i) {
            code <- function(expr) tryCatch({
                expr
                "no error"
            }, minknow_error = function(e) e$code)
            list(version = code(mk_version(parent)),
                 call = code(mk_call(parent, "/minknow_sim.TestService/echo")),
                 open = code(mk_open_position(parent, "X1")),
                 recv = code(mk_recv(stream)),
                 mine = mk_version(connect_sim(sim))$full)
        }, mc.cores = 2)
    })[["elapsed"]]
    expect_lt(elapsed, 30)
    for (g in got) {
        expect_false(inherits(g, "try-error"), info = paste(g))
        expect_identical(g$version, "FORKED_HANDLE")
        expect_identical(g$call, "FORKED_HANDLE")
        expect_identical(g$open, "FORKED_HANDLE")
        expect_identical(g$recv, "FORKED_HANDLE")
        expect_identical(g$mine, "6.3.7-sim")
    }
    # The parent's handles are untouched.
    expect_identical(mk_version(parent)$full, "6.3.7-sim")
    mk_send(stream, pb_bytes(1, "after fork"))
    expect_identical(pb_string(pb_decode(mk_recv(stream)), 1), "after fork")
    expect_true(sim$process$is_alive())
})
