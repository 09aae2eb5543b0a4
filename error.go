package rocca

import (
	"errors"
	"fmt"
)

// ErrorCode classifies an error for the edges: the HTTP layer maps it to a status, the CLI to an exit code.
type ErrorCode string

// The error codes. Adapters translate driver errors into these; nothing else leaks to users.
const (
	EINVALID      ErrorCode = "invalid"      // the input is wrong; the message says how
	ENOTFOUND     ErrorCode = "not_found"    // the thing does not exist
	ECONFLICT     ErrorCode = "conflict"     // the thing exists already, or the state forbids the change
	EUNAUTHORIZED ErrorCode = "unauthorized" // not signed in, or bad credentials
	EFORBIDDEN    ErrorCode = "forbidden"    // signed in but not allowed
	ERATELIMIT    ErrorCode = "rate_limited" // too many attempts; try later
	EGONE         ErrorCode = "gone"         // used once already or expired
	ETOOLARGE     ErrorCode = "too_large"    // over a size limit
	EUNAVAILABLE  ErrorCode = "unavailable"  // a dependency is down; try later
	EINTERNAL     ErrorCode = "internal"     // a bug or an unexpected failure; details only in the log
)

// Error is an error meant for a user. Key, when set, names a message in the i18n catalog (with Args
// for its placeholders) so the edge can show it in the user's language; Message is the English text
// used in logs and where no catalog is at hand.
type Error struct {
	Code    ErrorCode
	Message string
	Key     string
	Args    []any
	Err     error // the cause, for logs only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted English message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Localized returns an *Error whose user-facing text is the catalog message key with args; message is
// the English text for logs.
func Localized(code ErrorCode, key, message string, args ...any) *Error {
	return &Error{Code: code, Key: key, Args: args, Message: message}
}

// ErrorCodeOf returns the code of the first *Error in err's chain, EINTERNAL for any other non-nil
// error, and "" for nil.
func ErrorCodeOf(err error) ErrorCode {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing English message of err: the Message of an *Error, or a generic
// text for internal errors, whose details belong in the log only.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "internal error"
}
