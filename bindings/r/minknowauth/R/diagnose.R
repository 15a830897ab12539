# The step-by-step diagnosis of a connection (minknow_diagnose).

mk_diagnose <- function(host = "localhost", port = NULL, ca = NULL, cert = NULL,
                        key = NULL, token = NULL, protocol_token = NULL,
                        local_token = c("auto", "on", "off"),
                        server_name = NULL, use_environment = TRUE,
                        timeout = 10) {
    a <- mk_connection_args(host, port, ca, cert, key, token, protocol_token,
                            match.arg(local_token), server_name,
                            use_environment, timeout, sys.call())
    json <- mk_result(.Call(C_mk_c_diagnose, a[[1]], a[[2]], a[[3]], a[[4]],
                            a[[5]], a[[6]], a[[7]], a[[8]], a[[9]], a[[10]],
                            a[[11]]))
    # Arrays of objects (steps, CA attempts) stay lists of lists, so every
    # step has the same shape whatever its details hold.
    report <- jsonlite::fromJSON(json, simplifyVector = TRUE,
                                 simplifyDataFrame = FALSE,
                                 simplifyMatrix = FALSE)
    attr(report, "json") <- json
    class(report) <- "minknow_report"
    report
}

format.minknow_report <- function(x, ...) {
    lines <- sprintf("%s port %s (%s), server name %s", x$host, x$port,
                     x$port_reason, x$server_name)
    for (s in x$steps) {
        lines <- c(lines, sprintf("[%s] %-20s %s", if (isTRUE(s$ok)) "ok  " else "FAIL",
                                  s$step, s$summary))
    }
    for (w in unlist(x$warnings)) lines <- c(lines, paste0("warning: ", w))
    d <- x$diagnosis
    if (is.null(d)) {
        lines <- c(lines, "result: connected and authenticated")
    } else {
        lines <- c(lines, sprintf("result: failed at %s (%s)", d$step, d$cause),
                   paste0("  what: ", d$message), paste0("  fix:  ", d$fix))
    }
    lines
}

print.minknow_report <- function(x, ...) {
    cat(format(x, ...), sep = "\n")
    invisible(x)
}
