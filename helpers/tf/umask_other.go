//go:build !unix

package tf

// privateUmask does nothing where there is no umask; Protect still runs.
func privateUmask() (restore func()) { return func() {} }
