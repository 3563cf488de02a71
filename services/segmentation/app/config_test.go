package app

import (
	"flag"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	tests := []struct {
		env, flag string
		want      int64
		wantErr   bool
	}{
		{want: DefaultMemoryLimit},
		{env: "0", want: 0},
		{env: "2GiB", want: 2 << 30},
		{env: "512 MiB", want: 512 << 20},
		{env: "123456", want: 123456},
		{env: "1GiB", flag: "64KiB", want: 64 << 10},
		{env: "lots", wantErr: true},
		{env: "-1MiB", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.env+"/"+tt.flag, func(t *testing.T) {
			t.Setenv("TENURE_SEGMENTATION_MEMORY_LIMIT", tt.env)
			var c Config
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			c.RegisterFlags(fs)
			var args []string
			if tt.flag != "" {
				args = []string{"-memory-limit", tt.flag}
			}
			if err := fs.Parse(args); err != nil {
				t.Fatal(err)
			}
			err := c.Validate()
			if tt.wantErr {
				if c.MemoryLimit >= 0 {
					t.Errorf("MemoryLimit: got %d, want the invalid marker", c.MemoryLimit)
				}
				return
			}
			if c.MemoryLimit != tt.want {
				t.Errorf("MemoryLimit: got %d, want %d (validate: %v)", c.MemoryLimit, tt.want, err)
			}
		})
	}
	var b byteSize
	for _, bad := range []string{"", "MiB", "1.5GiB", "99999999999TiB"} {
		if err := b.Set(bad); err == nil {
			t.Errorf("Set(%q): got %d, want an error", bad, b)
		}
	}
}

// TestSoftMemoryLimit: main sets the configured limit unless it is 0 or
// GOMEMLIMIT is set, which wins.
func TestSoftMemoryLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	if n, ok := (Config{MemoryLimit: 1 << 30}).SoftMemoryLimit(); !ok || n != 1<<30 {
		t.Errorf("got %d, %v; want 1 GiB, true", n, ok)
	}
	if _, ok := (Config{}).SoftMemoryLimit(); ok {
		t.Error("MemoryLimit 0: got true, want the runtime's default left alone")
	}
	t.Setenv("GOMEMLIMIT", "2GiB")
	if _, ok := (Config{MemoryLimit: 1 << 30}).SoftMemoryLimit(); ok {
		t.Error("GOMEMLIMIT set: got true, want it to win")
	}
}
