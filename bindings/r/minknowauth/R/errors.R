# Errors and interrupts coming back from the C glue.
#
# The C glue never raises: it frees every library object first and returns
# either a value, a list of class "minknow_failure" (code, status,
# grpc_status, message), or a marker of class "minknow_interrupted". Only
# here, with no C or Rust frame left on the stack, does R raise. The
# condition's fields are documented in man/minknow_error.Rd.

minknow_error <- function(code, message, status = NA_integer_,
                          grpc_status = NA_integer_, call = NULL) {
    structure(
        class = c("minknow_error", "error", "condition"),
        list(message = as.character(message), call = call,
             code = as.character(code), status = as.integer(status),
             grpc_status = as.integer(grpc_status))
    )
}

# Signal R's own interrupt condition (so tryCatch(interrupt = ) and the
# top level see a Ctrl-C as usual), then return to the top level.
mk_signal_interrupt <- function() {
    cond <- structure(class = c("interrupt", "condition"),
                      list(message = "interrupted", call = NULL))
    signalCondition(cond)
    invokeRestart("abort")
}

# The value of a .Call, or the condition it stands for. Log messages the
# call queued are delivered first, so that they come before its error.
mk_result <- function(res, call = sys.call(-1L)) {
    force(res) # the .Call itself, so that its messages are queued by now
    if (!identical(mk_log_state$level, "off")) mk_flush_log()
    if (inherits(res, "minknow_failure")) {
        stop(minknow_error(res$code, res$message, res$status,
                           res$grpc_status, call))
    }
    if (inherits(res, "minknow_interrupted")) mk_signal_interrupt()
    res
}

mk_stop <- function(code, message, call = sys.call(-1L)) {
    stop(minknow_error(code, message, call = call))
}
