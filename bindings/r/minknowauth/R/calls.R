# Raw calls: unary, and streams of every kind.

mk_method_arg <- function(method) {
    if (!is.character(method) || length(method) != 1L || is.na(method)) {
        stop("'method' must be a single string such as ",
             "\"/minknow_api.manager.ManagerService/get_version_info\"",
             call. = FALSE)
    }
    method
}

mk_raw_arg <- function(x, what) {
    if (!is.raw(x)) stop(sprintf("'%s' must be a raw vector", what), call. = FALSE)
    x
}

mk_check_stream <- function(stream, call = sys.call(-1L)) {
    if (!inherits(stream, "minknow_stream")) {
        stop(minknow_error("INVALID_ARGUMENT",
                           "expected a minknow_stream (from mk_stream)",
                           call = call))
    }
    invisible(stream)
}

mk_call <- function(conn, method, raw_request = raw(), timeout = NULL) {
    mk_check_connection(conn)
    method <- mk_method_arg(method)
    raw_request <- mk_raw_arg(raw_request, "raw_request")
    timeout_ms <- mk_seconds_to_ms(timeout, "timeout", zero_ok = TRUE)
    mk_result(.Call(C_mk_c_unary, conn, method, raw_request, timeout_ms))
}

mk_stream <- function(conn, method, timeout = NULL) {
    mk_check_connection(conn)
    method <- mk_method_arg(method)
    timeout_ms <- mk_seconds_to_ms(timeout, "timeout", zero_ok = TRUE)
    res <- mk_result(.Call(C_mk_c_stream, conn, method, timeout_ms))
    attr(res, "method") <- method
    class(res) <- "minknow_stream"
    res
}

mk_send <- function(stream, raw) {
    mk_check_stream(stream)
    raw <- mk_raw_arg(raw, "raw")
    invisible(mk_result(.Call(C_mk_c_send, stream, raw)))
}

mk_close_send <- function(stream) {
    mk_check_stream(stream)
    invisible(mk_result(.Call(C_mk_c_close_send, stream)))
}

mk_recv <- function(stream) {
    mk_check_stream(stream)
    mk_result(.Call(C_mk_c_recv, stream))
}

mk_cancel <- function(stream) {
    mk_check_stream(stream)
    invisible(mk_result(.Call(C_mk_c_cancel, stream)))
}

format.minknow_stream <- function(x, ...) {
    state <- if (.Call(C_mk_c_is_open, x)) "open" else "closed"
    sprintf("<minknow_stream %s (%s)>", attr(x, "method"), state)
}

print.minknow_stream <- function(x, ...) {
    cat(format(x, ...), "\n", sep = "")
    invisible(x)
}
