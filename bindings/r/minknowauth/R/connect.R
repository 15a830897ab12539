# Connections: the manager, positions, the basecaller, any port.

mk_seconds_to_ms <- function(x, what, zero_ok) {
    if (is.null(x)) {
        if (zero_ok) return(0L)
        stop(sprintf("'%s' must be a number of seconds", what), call. = FALSE)
    }
    if (!is.numeric(x) || length(x) != 1L || is.na(x) || x < 0) {
        stop(sprintf("'%s' must be a non-negative number of seconds", what),
             call. = FALSE)
    }
    ms <- ceiling(x * 1000)
    if (!zero_ok && ms < 1) ms <- 1
    if (ms > 600000 && !zero_ok) {
        stop(sprintf("'%s' must be at most 600 seconds", what), call. = FALSE)
    }
    if (ms > .Machine$integer.max) {
        stop(sprintf("'%s' is too large", what), call. = FALSE)
    }
    as.integer(ms)
}

mk_port_arg <- function(port) {
    if (!is.numeric(port) || length(port) != 1L || is.na(port) ||
        port != round(port) || port < 0 || port > 65535) {
        stop("'port' must be a whole number from 0 to 65535", call. = FALSE)
    }
    as.integer(port)
}

mk_string_or_null <- function(x, what) {
    if (is.null(x)) return(NULL)
    if (!is.character(x) || length(x) != 1L || is.na(x)) {
        stop(sprintf("'%s' must be a single string or NULL", what), call. = FALSE)
    }
    x
}

# A path is expanded ("~"); PEM text is passed as it is.
mk_path_or_pem <- function(x, what) {
    x <- mk_string_or_null(x, what)
    if (is.null(x) || grepl("-----BEGIN ", x, fixed = TRUE)) x else path.expand(x)
}

mk_as_connection <- function(x) {
    class(x) <- "minknow_connection"
    x
}

mk_check_connection <- function(conn, call = sys.call(-1L)) {
    if (!inherits(conn, "minknow_connection")) {
        stop(minknow_error("INVALID_ARGUMENT",
                           "expected a minknow_connection (from mk_connect)",
                           call = call))
    }
    invisible(conn)
}

# mk_connect's arguments, checked, in the order the C glue takes them
# (shared with mk_diagnose).
mk_connection_args <- function(host, port, ca, cert, key, token, protocol_token,
                               local_token, server_name, use_environment,
                               timeout, call) {
    mode <- match(local_token, c("auto", "on", "off")) - 1L
    host <- mk_string_or_null(host, "host")
    if (is.null(host)) stop("'host' must be a single string", call. = FALSE)
    port <- if (is.null(port)) -1L else mk_port_arg(port)
    if (!is.null(ca)) {
        if (!is.character(ca) || anyNA(ca)) {
            stop("'ca' must be a character vector of paths or PEM text",
                 call. = FALSE)
        }
        pem <- grepl("-----BEGIN ", ca, fixed = TRUE)
        ca[!pem] <- path.expand(ca[!pem])
    }
    cert <- mk_path_or_pem(cert, "cert")
    key <- mk_path_or_pem(key, "key")
    if (is.null(cert) != is.null(key)) {
        stop(minknow_error(
            "INCOMPLETE_IDENTITY",
            sprintf("a client certificate needs both 'cert' and 'key'; only '%s' was given",
                    if (is.null(key)) "cert" else "key"),
            status = 208L, call = call))
    }
    token <- mk_string_or_null(token, "token")
    protocol_token <- mk_string_or_null(protocol_token, "protocol_token")
    server_name <- mk_string_or_null(server_name, "server_name")
    if (!is.logical(use_environment) || length(use_environment) != 1L ||
        is.na(use_environment)) {
        stop("'use_environment' must be TRUE or FALSE", call. = FALSE)
    }
    timeout_ms <- mk_seconds_to_ms(timeout, "timeout", zero_ok = FALSE)
    list(host, port, ca, cert, key, token, protocol_token, mode, server_name,
         use_environment, timeout_ms)
}

mk_connect <- function(host = "localhost", port = NULL, ca = NULL, cert = NULL,
                       key = NULL, token = NULL, protocol_token = NULL,
                       local_token = c("auto", "on", "off"),
                       server_name = NULL, use_environment = TRUE,
                       timeout = 10) {
    a <- mk_connection_args(host, port, ca, cert, key, token, protocol_token,
                            match.arg(local_token), server_name,
                            use_environment, timeout, sys.call())
    res <- mk_result(.Call(C_mk_c_connect, a[[1]], a[[2]], a[[3]], a[[4]],
                           a[[5]], a[[6]], a[[7]], a[[8]], a[[9]], a[[10]],
                           a[[11]]))
    mk_as_connection(res)
}

mk_close <- function(x) {
    if (!inherits(x, c("minknow_connection", "minknow_stream"))) {
        stop(minknow_error("INVALID_ARGUMENT",
                           "expected a minknow_connection or minknow_stream",
                           call = sys.call()))
    }
    invisible(mk_result(.Call(C_mk_c_close, x)))
}

mk_is_open <- function(x) {
    inherits(x, c("minknow_connection", "minknow_stream")) &&
        .Call(C_mk_c_is_open, x)
}

mk_endpoint <- function(conn) {
    mk_check_connection(conn)
    mk_result(.Call(C_mk_c_endpoint, conn))
}

mk_version <- function(conn) {
    mk_check_connection(conn)
    mk_result(.Call(C_mk_c_version, conn))
}

mk_host <- function(conn) {
    mk_check_connection(conn)
    mk_result(.Call(C_mk_c_host, conn))
}

mk_positions <- function(conn) {
    mk_check_connection(conn)
    cols <- mk_result(.Call(C_mk_c_positions, conn))
    as.data.frame(cols, stringsAsFactors = FALSE)
}

mk_open_position <- function(conn, name) {
    mk_check_connection(conn)
    name <- mk_string_or_null(name, "name")
    if (is.null(name)) stop("'name' must be a single string", call. = FALSE)
    res <- mk_result(.Call(C_mk_c_open_position, conn, name))
    mk_as_connection(res)
}

mk_open_port <- function(conn, port) {
    mk_check_connection(conn)
    port <- mk_port_arg(port)
    res <- mk_result(.Call(C_mk_c_open_port, conn, port))
    mk_as_connection(res)
}

mk_basecaller <- function(conn) {
    mk_check_connection(conn)
    res <- mk_result(.Call(C_mk_c_open_basecaller, conn))
    mk_as_connection(res)
}

mk_basecaller_port <- function(conn) {
    mk_check_connection(conn)
    mk_result(.Call(C_mk_c_basecaller_port, conn))
}

mk_library_version <- function() {
    .Call(C_mk_c_library_version)
}

format.minknow_connection <- function(x, ...) {
    ep <- if (.Call(C_mk_c_is_open, x)) .Call(C_mk_c_endpoint, x) else NULL
    if (is.null(ep)) return("<minknow_connection (closed)>")
    host <- if (grepl(":", ep$host, fixed = TRUE)) {
        paste0("[", ep$host, "]")
    } else {
        ep$host
    }
    sprintf("<minknow_connection %s %s:%d>", ep$kind, host, ep$port)
}

print.minknow_connection <- function(x, ...) {
    cat(format(x, ...), "\n", sep = "")
    invisible(x)
}
