package families

import (
	"errors"
	"fmt"
)

// InputError is bad input found before anything ran: an unknown family, a
// missing or invalid service map, invalid scenario options. cpulse check exits
// 2 on it, the service answers 400.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputf(format string, args ...any) error { return &InputError{Msg: fmt.Sprintf(format, args...)} }

// IsInput reports whether err is (or wraps) an InputError.
func IsInput(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}
