package app

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tenurehq/tenure/services/platform/bootstrap"
	"github.com/tenurehq/tenure/services/segmentation/internal/store"
)

// Config is the segmentation service's configuration: the settings every
// service shares plus its own, backed by TENURE_SEGMENTATION_* environment
// variables. See README.md for the table.
type Config struct {
	bootstrap.Config
	// RecomputeInterval is how often the elected replica starts a
	// recompute; 0 disables the schedule.
	RecomputeInterval time.Duration
	// ProfileService is the discovery name of the profile service whose
	// event stream feeds the inputs.
	ProfileService string
	// MemoryLimit is the Go runtime's soft memory limit in bytes
	// (debug.SetMemoryLimit), so a recompute's garbage is collected before
	// the heap doubles; 0 leaves the runtime's default, and GOMEMLIMIT, when
	// set, wins. The limit is process-wide, so New does not set it: main
	// does, with SoftMemoryLimit's answer.
	MemoryLimit int64
	// AudienceChangeRetention is how long the audience changes each
	// recompute records are kept.
	AudienceChangeRetention time.Duration
}

// DefaultMemoryLimit keeps a 1,000,000-customer recompute under 1 GiB of
// process memory. The limit covers the Go runtime's memory only; SQLite's
// page caches come on top. 768 MiB measured 1–2 s slower per recompute
// (rule evaluation allocates, and collected more often).
const DefaultMemoryLimit = 900 << 20

// RegisterFlags sets c to the defaults, overridden by the environment, and
// registers flags that override both.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	env := bootstrap.NewEnv(ServiceName)
	c.Config.RegisterFlags(fs, env, bootstrap.Defaults{
		ListenAddr: "127.0.0.1:9102",
		DSN:        "sqlite:data/segmentation.db",
	})
	fs.DurationVar(&c.RecomputeInterval, "recompute-interval", env.Duration("RECOMPUTE_INTERVAL", 0),
		env.Help("scheduled recompute interval on the elected replica, e.g. 1h; 0 disables", "RECOMPUTE_INTERVAL"))
	fs.StringVar(&c.ProfileService, "profile-service", env.String("PROFILE_SERVICE", "profile"),
		env.Help("discovery name of the profile service", "PROFILE_SERVICE"))
	fs.DurationVar(&c.AudienceChangeRetention, "audience-change-retention",
		env.Duration("AUDIENCE_CHANGE_RETENTION", store.DefaultChangeRetention),
		env.Help("how long the audience changes of each recompute are kept, e.g. 720h", "AUDIENCE_CHANGE_RETENTION"))
	limit := byteSize(DefaultMemoryLimit)
	if v := env.String("MEMORY_LIMIT", ""); v != "" {
		if err := limit.Set(v); err != nil {
			limit = -1 // reported by Validate
		}
	}
	c.MemoryLimit = int64(limit)
	fs.Var((*byteSize)(&c.MemoryLimit), "memory-limit",
		env.Help("soft memory limit of the Go runtime, e.g. 900MiB or 2GiB; 0 leaves the default; GOMEMLIMIT wins", "MEMORY_LIMIT"))
}

// SoftMemoryLimit returns the limit main should pass to
// debug.SetMemoryLimit, and false when it should leave the runtime's:
// MemoryLimit is 0 (or invalid: Validate reports that) or GOMEMLIMIT is
// set. The limit is process-wide, so only main sets it.
func (c Config) SoftMemoryLimit() (int64, bool) {
	return c.MemoryLimit, c.MemoryLimit > 0 && os.Getenv("GOMEMLIMIT") == ""
}

// byteSize is a flag value in bytes, written as a number with an optional
// B, KiB, MiB, GiB or TiB suffix (GOMEMLIMIT's syntax).
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	units := []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}
	num, shift := strings.TrimSpace(s), uint(0)
	for _, u := range units {
		if v, ok := strings.CutSuffix(num, u.suffix); ok {
			num, shift = strings.TrimSpace(v), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64>>shift {
		return fmt.Errorf("invalid size %q: want a number of bytes with an optional KiB, MiB, GiB or TiB suffix", s)
	}
	*b = byteSize(n << shift)
	return nil
}

// Validate reports every problem with c.
func (c Config) Validate() error {
	errs := c.Problems()
	if c.RecomputeInterval < 0 {
		errs = append(errs, fmt.Errorf("recompute interval must not be negative, got %s", c.RecomputeInterval))
	}
	if c.AudienceChangeRetention <= 0 {
		errs = append(errs, fmt.Errorf("audience change retention must be positive, got %s", c.AudienceChangeRetention))
	}
	if c.MemoryLimit < 0 {
		errs = append(errs, errors.New("memory limit must be a size such as 900MiB, or 0"))
	}
	if c.ProfileService == "" {
		errs = append(errs, errors.New("profile service name is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("segmentation: config: %w", err)
	}
	return nil
}
