package minknow

import (
	"context"
	"log/slog"
)

// SlogLevelTrace is the slog level of the library's trace messages, one
// step below slog.LevelDebug, as slog suggests for finer levels.
const SlogLevelTrace = slog.LevelDebug - 4

// SlogLevel is the slog level for a library log level (LogTrace is
// SlogLevelTrace; LogOff has none and maps above slog.LevelError).
func SlogLevel(level LogLevel) slog.Level {
	switch level {
	case LogError:
		return slog.LevelError
	case LogWarn:
		return slog.LevelWarn
	case LogInfo:
		return slog.LevelInfo
	case LogDebug:
		return slog.LevelDebug
	case LogTrace:
		return SlogLevelTrace
	default:
		return slog.LevelError + 4
	}
}

// SlogLogger adapts l (slog.Default() when nil) for SetLogger: each
// message becomes a record at SlogLevel(level) with the attribute
// library=minknow_auth, and l's handler decides whether it is kept.
//
//	minknow.SetLogger(minknow.LogDebug, minknow.SlogLogger(slog.Default()))
//
// A *slog.Logger is safe for concurrent use, as SetLogger requires; the
// handler behind it should not block for long, since it runs on the
// library's threads.
func SlogLogger(l *slog.Logger) func(level LogLevel, message string) {
	if l == nil {
		l = slog.Default()
	}
	l = l.With(slog.String("library", "minknow_auth"))
	return func(level LogLevel, message string) {
		l.Log(context.Background(), SlogLevel(level), message)
	}
}
