package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/apiclient"
	"github.com/cloudpulse/cloudpulse/helpers/apiclient/apitest"
)

func TestMain(m *testing.M) {
	// The caller's service must not turn the local tests remote.
	os.Unsetenv("CPULSE_SERVER")
	os.Unsetenv("CPULSE_TOKEN")
	os.Exit(m.Run())
}

// fakeService is the contract's API on loopback, a home without ~/.cpulserc
// and a token file for it.
func fakeService(t *testing.T) (*apitest.Server, string, string) {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	fake := &apitest.Server{Token: "tok-123"}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("tok-123\n"), 0o600))
	return fake, srv.URL, tokenFile
}

func TestRemoteCheckPrintsTheHandle(t *testing.T) {
	fake, url, tok := fakeService(t)
	stdout, stderr, code := runCLI(t, "--server", url, "--token-file", tok, "check", "functional", "--cloud", "lab-member")
	assert.Equal(t, 0, code, stderr)
	handle := strings.TrimSpace(stdout)
	assert.Len(t, handle, 16)
	r, ok := fake.Run(handle)
	require.True(t, ok)
	assert.Equal(t, "functional", r.Type)
	assert.Equal(t, []string{`{"type":"functional","cloud":"lab-member"}`}, fake.Bodies)

	// the same again joins the queued run: same handle, said on stderr
	stdout, stderr, code = runCLI(t, "--server="+url, "--token-file="+tok, "check", "--cloud", "lab-member", "functional")
	assert.Equal(t, 0, code)
	assert.Equal(t, handle+"\n", stdout)
	assert.Equal(t, "joined the functional run on lab-member already queued\n", stderr)

	stdout, _, code = runCLI(t, "--server", url, "--token-file", tok, "check", "endpoint", "--json")
	assert.Equal(t, 0, code)
	var a apiclient.Accepted
	require.NoError(t, json.Unmarshal([]byte(stdout), &a))
	assert.Equal(t, apiclient.Accepted{Handle: a.Handle, Type: "endpoint", Cloud: "lab-member", State: "queued"}, a)
}

func TestRemoteCheckWaitExitCodes(t *testing.T) {
	for name, tc := range map[string]struct {
		end      func(r *apiclient.Result)
		code     int
		stdout   []string
		stderrIn string
	}{
		"passed": {func(r *apiclient.Result) {
			r.State, r.TestsPassed = "passed", []string{"functional/ping", "functional"}
			r.Checks = []apiclient.Check{{Name: "functional/ping", Status: "ok", Seconds: 1.5}, {Name: "functional", Status: "ok", Seconds: 200}}
			r.Steps = []apiclient.Step{{Name: "tofu apply", Seconds: 120.4}}
		}, 0, []string{"NAME             STATUS  DURATION  DETAIL\nfunctional/ping  pass    1.5s\nfunctional       pass    3m20s\n2 passed, 0 failed, 0 skipped\n"}, "tofu apply  120.4"},
		"failed": {func(r *apiclient.Result) {
			r.State, r.TestsFailed = "failed", []map[string]string{{"functional/ping": "100% loss"}}
			r.Checks = []apiclient.Check{{Name: "functional/ping", Status: "FAIL", Seconds: 2, Error: "100% loss"}, {Name: "functional/ssh", Status: "skip", Error: "no vm"}}
		}, 1, []string{"functional/ping  fail    2s        100% loss", "functional/ssh   skip    0s        no vm", "0 passed, 1 failed, 1 skipped"}, ""},
		"failed, no per-check rows": {func(r *apiclient.Result) {
			r.State, r.TestsPassed, r.TestsFailed = "failed", []string{"a"}, []map[string]string{{"b": "broken"}}
		}, 1, []string{"a     pass", "b     fail    0s        broken"}, ""},
		"cancelled": {func(r *apiclient.Result) { r.State, r.Error = "cancelled", "cancelled by DELETE" }, 1, []string{"error: cancelled by DELETE"}, "cpulse: run %s ended cancelled: cancelled by DELETE"},
	} {
		t.Run(name, func(t *testing.T) {
			fake, url, tok := fakeService(t)
			fake.Progress = func(r *apiclient.Result) {
				if r.State == "queued" {
					r.State = "running"
					return
				}
				tc.end(r)
			}
			stdout, stderr, code := runCLI(t, "--server", url, "--token-file", tok, "check", "functional", "--wait", "--poll", "1ms")
			assert.Equal(t, tc.code, code, stderr)
			for _, s := range tc.stdout {
				assert.Contains(t, stdout, s)
			}
			handle := strings.Fields(stdout)[0]
			assert.Contains(t, stderr, handle+": waiting (cpulse result "+handle+")\n"+handle+": running\n")
			if tc.stderrIn != "" {
				assert.Contains(t, stderr, strings.ReplaceAll(tc.stderrIn, "%s", handle))
			}
		})
	}
}

func TestRemoteCheckWaitTimeoutSaysTheRunGoesOn(t *testing.T) {
	_, url, tok := fakeService(t)
	_, stderr, code := runCLI(t, "--server", url, "--token-file", tok, "check", "endpoint", "--wait", "--poll", "1ms", "--timeout", "30ms")
	assert.Equal(t, 1, code)
	assert.Regexp(t, `cpulse: wait for ([0-9a-f]{16}) \(still queued\): context deadline exceeded; the run goes on: cpulse result [0-9a-f]{16}\n$`, stderr)
}

func TestRemoteCheckBadInputExit2BeforeAnyRequest(t *testing.T) {
	fake, url, tok := fakeService(t)
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"bad type":       {[]string{"check", "everything"}, `cpulse: check what? want one of operator, endpoint, functional, comprehensive, upgrade, all, got "everything"`},
		"no type":        {[]string{"check"}, `got ""`},
		"upgrade handle": {[]string{"check", "upgrade"}, "cpulse: check: --snapshot goes with type upgrade, and type upgrade needs --snapshot (the snapshot's handle)"},
		"stray destroy":  {[]string{"check", "functional", "--destroy"}, "cpulse: check: --destroy and --functional go with type upgrade"},
		"bad flag":       {[]string{"check", "endpoint", "--bogus"}, "flag provided but not defined: -bogus"},
		"bad poll":       {[]string{"check", "endpoint", "--wait", "--poll", "0s"}, "cpulse: --poll and --timeout: give positive durations such as 2s and 1h"},
		"extra arg":      {[]string{"check", "endpoint", "x"}, `cpulse: check: unexpected argument "x"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, stderr, code := runCLI(t, append([]string{"--server", url, "--token-file", tok}, tc.args...)...)
			assert.Equal(t, 2, code)
			assert.Contains(t, stderr, tc.want)
		})
	}
	assert.Empty(t, fake.Log())
}

func TestRemoteResult(t *testing.T) {
	fake, url, tok := fakeService(t)
	q := time.Date(2026, 12, 2, 21, 0, 0, 0, time.UTC)
	st, fin := q.Add(time.Second), q.Add(3*time.Minute+1*time.Second)
	fake.Add(apiclient.Result{Handle: "00000000000000aa", Type: "functional", Cloud: "lab-member", State: "failed", Timestamp: q, Started: &st, Finished: &fin,
		TestsFailed: []map[string]string{{"functional/ping": "100% loss"}}, TestsPassed: []string{"functional/ssh"},
		Checks: []apiclient.Check{{Name: "functional/ssh", Status: "ok", Seconds: 1}, {Name: "functional/ping", Status: "FAIL", Seconds: 3, Error: "100% loss"}}})
	stdout, stderr, code := runCLI(t, "--server", url, "--token-file", tok, "result", "00000000000000aa")
	assert.Equal(t, 0, code, stderr)
	assert.Equal(t, `00000000000000aa  functional on lab-member  failed  queued 2026-12-02 21:00:00Z  took 3m0s

NAME             STATUS  DURATION  DETAIL
functional/ssh   pass    1s
functional/ping  fail    3s        100% loss
1 passed, 1 failed, 0 skipped
`, stdout)

	stdout, _, code = runCLI(t, "--server", url, "--token-file", tok, "result", "--json", "00000000000000aa")
	assert.Equal(t, 0, code)
	var r apiclient.Result
	require.NoError(t, json.Unmarshal([]byte(stdout), &r))
	assert.Equal(t, "failed", r.State)
	assert.Equal(t, []map[string]string{{"functional/ping": "100% loss"}}, r.TestsFailed)

	_, stderr, code = runCLI(t, "--server", url, "--token-file", tok, "result", "nope")
	assert.Equal(t, 1, code)
	assert.Equal(t, "cpulse: GET /cpulse/result: 404 Not Found: unknown handle \"nope\"\n", stderr)

	_, stderr, code = runCLI(t, "--server", url, "--token-file", tok, "result")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "cpulse: result of what? give the handle that cpulse check printed\n")
}

func TestRemoteResults(t *testing.T) {
	fake, url, tok := fakeService(t)
	now := time.Now().UTC().Truncate(time.Second)
	for i, state := range []string{"passed", "failed", "passed", "failed", "failed"} {
		fake.Add(apiclient.Result{Handle: strings.Repeat(string(rune('a'+i)), 16), Type: "endpoint", Cloud: "lab-member", State: state,
			Timestamp: now.Add(time.Duration(i-5) * time.Minute), TestsFailed: map[bool][]map[string]string{true: {{"endpoint/compute": "503"}}}[state == "failed"]})
	}
	fake.Add(apiclient.Result{Handle: strings.Repeat("f", 16), Type: "operator", Cloud: "lab-admin", State: "failed", Timestamp: now.Add(-2 * time.Hour)})

	stdout, stderr, code := runCLI(t, "--server", url, "--token-file", tok, "results", "--failed", "--since", "1h", "--type", "endpoint", "--limit", "2")
	assert.Equal(t, 0, code, stderr)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(t, lines, 4, stdout)
	assert.Regexp(t, `^HANDLE\s+TYPE\s+CLOUD\s+STATE\s+QUEUED\s+DURATION\s+FAILED$`, lines[0])
	assert.Regexp(t, `^eeeeeeeeeeeeeeee\s+endpoint\s+lab-member\s+failed\s+\S+ \S+\s+endpoint/compute$`, lines[1])
	assert.Regexp(t, `^dddddddddddddddd\s+`, lines[2])
	assert.Equal(t, "2 runs", lines[3])
	assert.Equal(t, "GET /cpulse/results?failed=true&limit=2&since=1h0m0s&type=endpoint", fake.Log()[0])

	stdout, _, code = runCLI(t, "--server", url, "--token-file", tok, "results", "--type", "operator")
	assert.Equal(t, 0, code)
	assert.True(t, strings.HasSuffix(stdout, "\n1 run\n"), stdout)

	// --limit over pages: the cursor is followed, and no more than asked is read
	stdout, _, code = runCLI(t, "--server", url, "--token-file", tok, "results", "--json", "--limit", "4")
	assert.Equal(t, 0, code)
	var page struct{ Results []apiclient.Result }
	require.NoError(t, json.Unmarshal([]byte(stdout), &page))
	require.Len(t, page.Results, 4)
	assert.Equal(t, strings.Repeat("f", 16), page.Results[0].Handle)

	for args, want := range map[string]string{
		"--limit 0":      "cpulse: --limit 0: give a positive number",
		"--since -1h":    "cpulse: --since -1h0m0s: give a positive duration such as 1h",
		"--type bogus":   `cpulse: --type "bogus": want one of operator, endpoint, functional, comprehensive, upgrade, all`,
		"--since 1 hour": `invalid value "1" for flag -since`,
	} {
		_, stderr, code := runCLI(t, append([]string{"--server", url, "--token-file", tok, "results"}, strings.Fields(args)...)...)
		assert.Equal(t, 2, code, args)
		assert.Contains(t, stderr, want, args)
	}
}

func TestResultWithoutServerNamesTheFix(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	for _, cmd := range []string{"result", "results"} {
		stdout, stderr, code := runCLI(t, cmd, "x")
		assert.Equal(t, 2, code)
		assert.Empty(t, stdout)
		assert.Equal(t, "cpulse: cpulse "+cmd+" needs a server: give --server URL (before the command), set $CPULSE_SERVER, or put server: in ~/.cpulserc\n", stderr)
	}
	_, stderr, code := runCLI(t, "--token-file", "/x", "check", "endpoint")
	assert.Equal(t, 2, code)
	assert.Equal(t, "cpulse: --token-file without a server: give --server URL, set $CPULSE_SERVER, or put server: in ~/.cpulserc\n", stderr)
}

func TestGlobalFlagErrors(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	for args, want := range map[string]string{
		"--server":                                  "cpulse: --server needs a value\n",
		"--server= check endpoint":                  "cpulse: --server needs a value\n",
		"--server 127.0.0.1:1 check x":              `cpulse: server "127.0.0.1:1": want a URL such as http://127.0.0.1:8787` + "\n",
		"--server http://127.0.0.1:1 cleanup":       "cpulse: cleanup does not talk to a server: drop --server/--token-file\n",
		"--server http://127.0.0.1:1 upgrade watch": "cpulse: upgrade watch: with a server, want snapshot, create or verify (watch and finish run without --server)\n",
	} {
		_, stderr, code := runCLI(t, strings.Fields(args)...)
		assert.Equal(t, 2, code, args)
		assert.True(t, strings.HasSuffix(stderr, want), "%s: %q", args, stderr)
	}
	// a service that does not answer: exit 1 naming the request
	_, stderr, code := runCLI(t, "--server", "http://127.0.0.1:1", "check", "endpoint")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "cpulse: POST /cpulse/check: Post \"http://127.0.0.1:1/cpulse/check\": dial tcp 127.0.0.1:1: connect: connection refused")
}

func TestTokenSources(t *testing.T) {
	fake, url, tok := fakeService(t)
	home := os.Getenv("HOME")
	rc := filepath.Join(home, ".cpulserc")

	// no token: the service's 401 message, exit 1
	_, stderr, code := runCLI(t, "--server", url, "results")
	assert.Equal(t, 1, code)
	assert.Equal(t, "cpulse: GET /cpulse/results: 401 Unauthorized: missing or wrong token: send Authorization: Bearer TOKEN\n", stderr)

	// $CPULSE_SERVER and $CPULSE_TOKEN
	t.Run("env", func(t *testing.T) {
		t.Setenv("CPULSE_SERVER", url)
		t.Setenv("CPULSE_TOKEN", "tok-123")
		_, stderr, code := runCLI(t, "results")
		assert.Equal(t, 0, code, stderr)
	})

	// ~/.cpulserc with server and token, 0600
	require.NoError(t, os.WriteFile(rc, []byte("server: "+url+"\ntoken: tok-123\n"), 0o600))
	_, stderr, code = runCLI(t, "check", "endpoint")
	assert.Equal(t, 0, code, stderr)
	assert.Equal(t, "POST /cpulse/check", fake.Log()[len(fake.Log())-1])

	// the rc's token never goes to another server
	other := &apitest.Server{Token: "other"}
	osrv := httptest.NewServer(other)
	defer osrv.Close()
	_, stderr, code = runCLI(t, "--server", osrv.URL, "results")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "401 Unauthorized")

	// token_file in the rc, relative to the home
	require.NoError(t, os.WriteFile(filepath.Join(home, "tok"), []byte("tok-123"), 0o600))
	require.NoError(t, os.WriteFile(rc, []byte("server: "+url+"\ntoken_file: ~/tok\n"), 0o600))
	_, stderr, code = runCLI(t, "results")
	assert.Equal(t, 0, code, stderr)

	for name, tc := range map[string]struct {
		content string
		mode    os.FileMode
		want    string
	}{
		"readable by others": {"server: " + url + "\ntoken: tok-123\n", 0o644, "cpulse: " + rc + " is open to others (mode 0644) and may hold the token: chmod 600 " + rc + "\n"},
		"group readable":     {"server: " + url + "\n", 0o640, "chmod 600 " + rc + "\n"},
		"unknown key":        {"server: " + url + "\ntokn: x\n", 0o600, "cpulse: " + rc + ": line 2: unknown key tokn (want server: URL, and token: TOKEN or token_file: FILE)\n"},
		"both tokens":        {"server: " + url + "\ntoken: a\ntoken_file: b\n", 0o600, "cpulse: " + rc + ": both token and token_file: keep one\n"},
	} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(rc, []byte(tc.content), 0o600))
			require.NoError(t, os.Chmod(rc, tc.mode))
			_, stderr, code := runCLI(t, "results")
			assert.Equal(t, 2, code)
			assert.True(t, strings.HasSuffix(stderr, tc.want), "%q", stderr)
			// the local check is refused too: the rc decides where it runs
			_, _, code = runCLI(t, "check", "endpoint")
			assert.Equal(t, 2, code)
		})
	}
	require.NoError(t, os.Remove(rc))

	// token files that others may read, or empty
	open := filepath.Join(t.TempDir(), "open")
	require.NoError(t, os.WriteFile(open, []byte("tok-123"), 0o644))
	require.NoError(t, os.Chmod(open, 0o644))
	_, stderr, code = runCLI(t, "--server", url, "--token-file", open, "results")
	assert.Equal(t, 2, code)
	assert.Equal(t, "cpulse: --token-file: "+open+" is readable by others (mode 0644): chmod 600 "+open+"\n", stderr)
	empty := filepath.Join(t.TempDir(), "empty")
	require.NoError(t, os.WriteFile(empty, []byte("\n"), 0o600))
	_, stderr, code = runCLI(t, "--server", url, "--token-file", empty, "results")
	assert.Equal(t, 2, code)
	assert.Equal(t, "cpulse: --token-file: "+empty+" is empty: put the service's token in it\n", stderr)
	_ = tok
}

func TestRemoteUpgrade(t *testing.T) {
	fake, url, tok := fakeService(t)
	res := filepath.Join(t.TempDir(), "resources.json")
	require.NoError(t, os.WriteFile(res, []byte(`{"vm": ["web", "db"]}`), 0o600))
	g := []string{"--server", url, "--token-file", tok}

	stdout, stderr, code := runCLI(t, append(g, "upgrade", "snapshot", "--resources", res, "--cloud", "lab-admin")...)
	assert.Equal(t, 0, code, stderr)
	handle := strings.TrimSpace(stdout)
	assert.Len(t, handle, 16)
	assert.Equal(t, "snapshot "+handle+": verify after the upgrade with `cpulse check upgrade --snapshot "+handle+"`\n", stderr)

	_, _, code = runCLI(t, append(g, "upgrade", "snapshot", "--create=false", "--resources", res)...)
	assert.Equal(t, 0, code)
	stdout, _, code = runCLI(t, append(g, "upgrade", "create", "--json")...)
	assert.Equal(t, 0, code)
	var a apiclient.SnapshotAccepted
	require.NoError(t, json.Unmarshal([]byte(stdout), &a))
	assert.NotEmpty(t, a.Handle)
	assert.Equal(t, []string{
		`{"create":true,"cloud":"lab-admin","resources":{"vm":["web","db"]}}`,
		`{"create":false,"resources":{"vm":["web","db"]}}`,
		`{"create":true}`,
	}, fake.Bodies)

	stdout, stderr, code = runCLI(t, append(g, "upgrade", "verify", "--handle", handle)...)
	assert.Equal(t, 0, code, stderr)
	assert.Len(t, strings.TrimSpace(stdout), 16)
	assert.Equal(t, `{"type":"upgrade","snapshot":"`+handle+`"}`, fake.Bodies[3], "--handle is --snapshot")
	stdout, stderr, code = runCLI(t, append(g, "check", "upgrade", "--snapshot", handle, "--destroy", "--functional=false")...)
	assert.Equal(t, 0, code, stderr)
	assert.Len(t, strings.TrimSpace(stdout), 16)
	assert.Equal(t, `{"type":"upgrade","snapshot":"`+handle+`","functional":false,"destroy":true}`, fake.Bodies[4])

	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte("vm: [web]"), 0o600))
	for args, want := range map[string]string{
		"upgrade":                              "cpulse: upgrade what? want snapshot, create or verify\n",
		"upgrade create --create=false":        "flag provided but not defined: -create",
		"upgrade snapshot --resources " + bad:  "cpulse: upgrade snapshot: --resources " + bad + " is not JSON\n",
		"upgrade snapshot --resources /nope/x": "cpulse: upgrade snapshot: --resources: open /nope/x: no such file or directory\n",
		"upgrade verify":                       "cpulse: check: --snapshot goes with type upgrade, and type upgrade needs --snapshot (the snapshot's handle)\n",
		"upgrade snapshot --create=false":      "cpulse: upgrade snapshot --create=false: say which resources with --resources FILE: {\"project\": \"<name or id>\", \"vm\": [\"<name or id>\", ...]}\n",
	} {
		_, stderr, code := runCLI(t, append(g, strings.Fields(args)...)...)
		assert.Equal(t, 2, code, args)
		assert.Contains(t, stderr, want, args)
	}
	assert.Len(t, fake.Bodies, 5, "bad input sends nothing")
}

func TestRemoteCancel(t *testing.T) {
	fake, url, tok := fakeService(t)
	g := []string{"--server", url, "--token-file", tok}
	stdout, _, code := runCLI(t, append(g, "check", "functional")...)
	require.Equal(t, 0, code)
	handle := strings.TrimSpace(stdout)
	stdout, stderr, code := runCLI(t, append(g, "cancel", handle)...)
	assert.Equal(t, 0, code, stderr)
	assert.Equal(t, handle+" cancelling\n", stdout)
	assert.Equal(t, "DELETE /cpulse/check/"+handle, fake.Log()[len(fake.Log())-1])
	stdout, _, code = runCLI(t, append(g, "cancel", handle)...)
	assert.Equal(t, 0, code)
	assert.Equal(t, handle+" cancelled\n", stdout)

	_, stderr, code = runCLI(t, append(g, "cancel", "nope")...)
	assert.Equal(t, 1, code)
	assert.Equal(t, "cpulse: DELETE /cpulse/check/nope: 404 Not Found: unknown handle \"nope\"\n", stderr)
	_, stderr, code = runCLI(t, append(g, "cancel")...)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "cpulse: cancel what? give the handle that cpulse check printed\n")
	t.Setenv("HOME", t.TempDir())
	_, stderr, code = runCLI(t, "cancel", handle)
	assert.Equal(t, 2, code)
	assert.Equal(t, "cpulse: cpulse cancel needs a server: give --server URL (before the command), set $CPULSE_SERVER, or put server: in ~/.cpulserc\n", stderr)
}
