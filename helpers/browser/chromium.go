package browser

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/chromedp/chromedp"
)

// Candidates are the Chromium binaries looked for on PATH, in order.
var Candidates = []string{"chromium", "chromium-browser", "google-chrome"}

// ErrNoChromium: no Chromium binary found (scripts/browser-deps.sh installs Debian's).
var ErrNoChromium = errors.New("no chromium on PATH and CLOUDPULSE_CHROMIUM unset (install it: scripts/browser-deps.sh)")

// ExecPath is $CLOUDPULSE_CHROMIUM, else the first of Candidates on PATH.
func ExecPath() (string, error) {
	if p := os.Getenv("CLOUDPULSE_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, c := range Candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// Options of a browser.
type Options struct {
	ExecPath    string // default ExecPath()
	UserDataDir string // a fresh, empty profile directory (required: no state from an earlier run)
	// Width and Height of the window (default 1400×1000).
	Width, Height int
	// Output receives Chromium's stdout and stderr (default: discarded).
	Output io.Writer
}

// Flags are the command-line flags of every start: headless, no sandbox (as
// root in a container), no GPU, and nothing that calls out to Google's hosts
// (this machine's network is closed: QUIC, background networking, component
// updates, sync).
func Flags(o Options) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(o.ExecPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(o.UserDataDir),
		chromedp.WindowSize(o.Width, o.Height),
		chromedp.CombinedOutput(o.Output),
	}
}

// Start launches Chromium and opens a tab; the returned context drives it
// (chromedp.Do/Run), stop ends the browser and waits for it.
func Start(ctx context.Context, o Options) (context.Context, context.CancelFunc, error) {
	if o.UserDataDir == "" {
		return nil, nil, fmt.Errorf("start chromium: Options.UserDataDir is empty (give it a fresh directory)")
	}
	if o.ExecPath == "" {
		p, err := ExecPath()
		if err != nil {
			return nil, nil, fmt.Errorf("start chromium: %w", err)
		}
		o.ExecPath = p
	}
	if o.Width == 0 || o.Height == 0 {
		o.Width, o.Height = 1400, 1000
	}
	if o.Output == nil {
		o.Output = io.Discard
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, Flags(o)...)
	bctx, cancelTab := chromedp.NewContext(actx)
	stop := func() { cancelTab(); cancelAlloc() }
	// The first action starts the browser: fail here, saying so, when it
	// cannot. It must run on bctx itself: the browser lives as long as the
	// context of the first action (a derived timeout would end it).
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		stop()
		return nil, nil, fmt.Errorf("start chromium %s: %w", o.ExecPath, err)
	}
	return bctx, stop, nil
}

// Screenshot saves the whole page, beyond the viewport, as a PNG at path
// (its directory created).
func Screenshot(ctx context.Context, path string) error {
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return fmt.Errorf("screenshot %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("screenshot %s: %w", path, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	return nil
}
