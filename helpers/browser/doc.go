// Package browser drives Debian's headless Chromium from Go (chromedp) for
// the tests of the status page: Start launches it with the flags a machine on
// a closed network needs and a fresh profile, Screenshot saves a full-page PNG.
//
//	ctx, stop, err := browser.Start(ctx, browser.Options{UserDataDir: dir})
//	if err != nil { ... }
//	defer stop()
//	err = chromedp.Do(ctx, chromedp.Navigate(url))
package browser
