# mk_log: the library's log messages reach R on R's thread.

test_that("a connect at debug level names the trusted CA and no token", {
    sim <- start_sim("developer-token")
    got <- list()
    mk_log("debug", function(level, message) {
        got[[length(got) + 1L]] <<- list(level = level, message = message)
    })
    withr::defer(mk_log("off"))
    conn <- connect_sim(sim, token = sim$developer_token)
    texts <- vapply(got, function(m) m$message, "")
    levels <- vapply(got, function(m) m$level, "")
    expect_true(any(grepl("trusted CA", texts, fixed = TRUE)), info = paste(texts, collapse = "\n"))
    expect_true(any(grepl(sim$ca, texts, fixed = TRUE)))
    expect_false(any(grepl(sim$developer_token, texts, fixed = TRUE)))
    expect_true(all(levels %in% c("error", "warn", "info", "debug")))

    # Off: nothing more arrives.
    expect_identical(mk_log("off"), "debug")
    n <- length(got)
    mk_version(connect_sim(sim, token = sim$developer_token))
    expect_identical(length(got), n)
})

test_that("by default messages are R messages, before the call's error", {
    sim <- start_sim()
    mk_log("debug")
    withr::defer(mk_log("off"))
    shown <- capture_messages(conn <- connect_sim(sim))
    expect_true(any(startsWith(shown, "[minknow_auth debug] trusted CA: ")),
                info = paste(shown, collapse = ""))
    expect_true(mk_close(conn))
    seen <- character()
    e <- withCallingHandlers(
        tryCatch(connect_sim(sim, ca = sim$client_ca), error = function(e) e),
        message = function(m) {
            seen <<- c(seen, conditionMessage(m))
            invokeRestart("muffleMessage")
        })
    expect_s3_class(e, "minknow_error")
    expect_true(any(grepl("client-ca.crt", seen, fixed = TRUE)))
    expect_identical(mk_flush_log(), 0L)
})

test_that("the queue keeps the newest 1000 and counts the rest", {
    got <- character()
    mk_log("debug", function(level, message) got <<- c(got, paste(level, message)))
    withr::defer(mk_log("off"))
    mk_flush_log()
    got <- character()
    expect_true(minknowauth:::mk_log_fill_for_tests(1500L))
    expect_identical(mk_flush_log(), 1000L)
    expect_length(got, 1001L)
    expect_match(got[1], "^warn 500 log message\\(s\\) dropped")
    expect_identical(got[2], "debug test message 501")
    expect_identical(got[1001], "debug test message 1500")
})

test_that("a failing handler becomes a warning; bad arguments are refused", {
    mk_log("debug", function(level, message) stop("handler broke"))
    withr::defer(mk_log("off"))
    expect_true(minknowauth:::mk_log_fill_for_tests(1L))
    expect_warning(mk_flush_log(), "handler broke")
    expect_error(mk_log("loud"), "should be one of")
    expect_error(mk_log("info", handler = "message"), "must be a function")
})
