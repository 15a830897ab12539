# The library's log messages, delivered on R's thread.
#
# The library logs from any thread, where R must not be called, so the C
# glue only queues messages (at most 1000; the oldest make room and are
# counted). They are delivered here: after every mk_* call that reaches the
# library (from mk_result), and from mk_flush_log().

mk_log_levels <- c("off", "error", "warn", "info", "debug", "trace")

mk_log_state <- new.env(parent = emptyenv())
mk_log_state$level <- "off"
mk_log_state$handler <- NULL

mk_log <- function(level = c("info", "error", "warn", "debug", "trace", "off"),
                   handler = NULL) {
    level <- match.arg(level)
    if (!is.null(handler) && !is.function(handler)) {
        stop("'handler' must be a function(level, message) or NULL", call. = FALSE)
    }
    previous <- mk_log_state$level
    # What the previous setting queued goes to its own handler.
    mk_flush_log()
    res <- .Call(C_mk_c_log_set, match(level, mk_log_levels) - 1L)
    if (inherits(res, "minknow_failure")) {
        stop(minknow_error(res$code, res$message, res$status, res$grpc_status,
                           sys.call()))
    }
    mk_log_state$level <- level
    mk_log_state$handler <- if (level == "off") NULL else handler
    invisible(previous)
}

mk_flush_log <- function() {
    taken <- .Call(C_mk_c_log_take)
    n <- length(taken$messages)
    if (n == 0L && taken$dropped == 0) return(invisible(0L))
    handler <- mk_log_state$handler
    deliver <- function(level, text) {
        if (is.null(handler)) {
            message("[minknow_auth ", level, "] ", text)
        } else {
            tryCatch(handler(level, text), error = function(e) {
                warning("minknowauth: the log handler failed: ",
                        conditionMessage(e), call. = FALSE)
            })
        }
    }
    if (taken$dropped > 0) {
        # The dropped ones are the oldest: say so before the rest.
        deliver("warn", sprintf(
            "%s log message(s) dropped: more than 1000 waited for delivery",
            format(taken$dropped, scientific = FALSE)))
    }
    levels <- mk_log_levels[taken$levels + 1L]
    for (i in seq_len(n)) deliver(levels[i], taken$messages[i])
    invisible(n)
}

# For the tests: queue n messages as the library would (FALSE when logging
# is off).
mk_log_fill_for_tests <- function(n) {
    .Call(C_mk_c_log_test_fill, as.integer(n))
}
