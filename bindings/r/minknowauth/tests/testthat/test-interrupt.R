# A user interrupt (SIGINT, as Ctrl-C sends) during a blocking call
# cancels the call and reaches R as an "interrupt" condition. The blocking
# R code runs in a child Rscript so that the signal goes to it alone.

run_interrupted <- function(sim, body) {
    script <- tempfile(fileext = ".R")
    on.exit(unlink(script))
    writeLines(c(
        "library(minknowauth)",
        sprintf("conn <- mk_connect('127.0.0.1', %d, ca = '%s', use_environment = FALSE)",
                sim$manager_port, sim$ca),
        "slow <- as.raw(c(0x08, 0x02, 0x18, 0xe0, 0xd4, 0x03))  # count 2, 60 s apart",
        "t0 <- Sys.time()",
        "r <- tryCatch({",
        body,
        "  'returned'",
        "}, interrupt = function(e) 'interrupted')",
        "cat(sprintf('RESULT %s %.2f\\n', r, as.numeric(Sys.time() - t0, units = 'secs')))",
        "cat('AFTER', mk_version(conn)$full, '\\n')"
    ), script)
    p <- processx::process$new(
        file.path(R.home("bin"), "Rscript"), c("--vanilla", script),
        stdout = "|", stderr = "2>&1", cleanup = TRUE,
        env = c("current", R_LIBS = paste(.libPaths(), collapse = .Platform$path.sep))
    )
    on.exit(if (p$is_alive()) p$kill(), add = TRUE)
    out <- character()
    deadline <- Sys.time() + 30
    while (!any(grepl("^WAITING", out)) && p$is_alive() && Sys.time() < deadline) {
        p$poll_io(200)
        out <- c(out, p$read_output_lines())
    }
    expect_true(any(grepl("^WAITING", out)), info = paste(out, collapse = "\n"))
    Sys.sleep(0.5) # let it block in the call
    p$interrupt()
    deadline <- Sys.time() + 20
    while (p$is_alive() && Sys.time() < deadline) {
        p$poll_io(200)
        out <- c(out, p$read_output_lines())
    }
    out <- c(out, p$read_output_lines())
    expect_false(p$is_alive())
    out
}

test_that("an interrupt cancels a blocked mk_recv", {
    sim <- start_sim()
    out <- run_interrupted(sim, c(
        "  s <- mk_stream(conn, '/minknow_sim.TestService/server_stream')",
        "  mk_send(s, slow); mk_close_send(s); mk_recv(s)",
        "  cat('WAITING\\n')",
        "  mk_recv(s)"))
    result <- grep("^RESULT", out, value = TRUE)
    expect_length(result, 1L)
    expect_match(result, "^RESULT interrupted ")
    expect_lt(as.numeric(sub("^RESULT interrupted ", "", result)), 10)
    expect_true(any(out == "AFTER 6.3.7-sim "), info = paste(out, collapse = "\n"))
})

test_that("an interrupt cancels a blocked mk_call", {
    sim <- start_sim()
    out <- run_interrupted(sim, c(
        "  cat('WAITING\\n')",
        "  mk_call(conn, '/minknow_sim.TestService/server_stream', slow)"))
    result <- grep("^RESULT", out, value = TRUE)
    expect_length(result, 1L)
    expect_match(result, "^RESULT interrupted ")
    expect_true(any(out == "AFTER 6.3.7-sim "), info = paste(out, collapse = "\n"))
})

test_that("an interrupt ends a connect that would wait for its timeout", {
    sim <- start_sim()
    # A TCP listener on 127.0.0.1 (an OS-chosen port) that never answers
    # the TLS handshake, for at most 60 s.
    python <- Sys.which("python3")
    expect_true(nzchar(python), info = "python3 is needed for a silent listener")
    silent <- processx::process$new(python, c("-c", paste(
        "import socket, time",
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(8)",
        "print(s.getsockname()[1], flush=True); time.sleep(60)", sep = "\n")),
        stdout = "|", cleanup = TRUE)
    withr::defer(silent$kill())
    line <- character()
    deadline <- Sys.time() + 20
    while (length(line) == 0L && silent$is_alive() && Sys.time() < deadline) {
        silent$poll_io(500)
        line <- silent$read_output_lines(n = 1)
    }
    port <- suppressWarnings(as.integer(line[1]))
    expect_true(!is.na(port) && port > 0L)
    out <- run_interrupted(sim, c(
        "  cat('WAITING\\n')",
        sprintf("  mk_connect('127.0.0.1', %d, ca = '%s', timeout = 60)", port, sim$ca)))
    result <- grep("^RESULT", out, value = TRUE)
    expect_length(result, 1L)
    expect_match(result, "^RESULT interrupted ")
    expect_lt(as.numeric(sub("^RESULT interrupted ", "", result)), 10)
    expect_true(any(out == "AFTER 6.3.7-sim "), info = paste(out, collapse = "\n"))
})
