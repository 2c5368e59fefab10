package config

import "fmt"

// Error is a configuration problem at a line of the file.
type Error struct {
	File string
	Line int
	What string // what is wrong
	Fix  string // how to fix it
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d: %s (%s)", e.File, e.Line, e.What, e.Fix)
}
