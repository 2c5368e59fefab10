package config_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/cloudpulse/cloudpulse/helpers/service/config"
)

func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "serve")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "token"), []byte("s3cret\n"), 0o600)
	path := filepath.Join(dir, "serve.yaml")
	_ = os.WriteFile(path, []byte("token_file: token\nclouds: [mycloud]\nintervals: {functional: 0}\n"), 0o600)

	c, err := config.Load(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, fam := range config.Families {
		d, on := c.Interval(fam)
		fmt.Println(fam, d, on)
	}
	// Output:
	// operator 1m0s true
	// endpoint 2m0s true
	// functional 0s false
	// comprehensive 2h0m0s true
	// upgrade 0s false
}
