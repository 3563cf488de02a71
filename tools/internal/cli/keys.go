package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
)

// keysFileFlag registers --file: the key file, by default the one every
// service reads (TENURE_AUTH_KEYS_FILE, else data/keys.json).
func keysFileFlag(env Env, name, synopsis string) (*string, func([]string) error, *flag.FlagSet) {
	fs := newFlagSet(env, "keys", name, synopsis)
	def := bootstrap.DefaultKeysFile
	if v := os.Getenv("TENURE_AUTH_KEYS_FILE"); v != "" {
		def = v
	}
	file := fs.String("file", def, "API key file (env TENURE_AUTH_KEYS_FILE)")
	return file, func(args []string) error { return parseFlags(fs, args) }, fs
}

func keysCreate(_ context.Context, env Env, args []string) error {
	file, _, fs := keysFileFlag(env, "create", "--name NAME --role ROLE[,ROLE] [--expires DURATION]")
	name := fs.String("name", "", "who or what the key is for, e.g. shop-backend")
	roles := fs.String("role", "", "comma-separated roles: "+roleList())
	expires := fs.Duration("expires", 0, "lifetime of the key, e.g. 720h; 0: no expiry")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var rs []auth.Role
	for _, r := range strings.Split(*roles, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		role, ok := auth.ParseRole(r)
		if !ok {
			return fmt.Errorf("%w: unknown role %q: want %s", ErrUsage, r, roleList())
		}
		rs = append(rs, role)
	}
	if *name == "" || len(rs) == 0 {
		return fmt.Errorf("%w: --name and --role are required", ErrUsage)
	}
	now := time.Now()
	var until time.Time
	if *expires > 0 {
		until = now.Add(*expires)
	}
	key, k, err := auth.CreateKey(*file, *name, rs, now, until)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, key)
	fmt.Fprintf(env.Stderr, "created key %s (%s) in %s; it is shown only now: the file keeps its SHA-256 hash\n", k.ID, k.Name, *file)
	return nil
}

func keysList(_ context.Context, env Env, args []string) error {
	file, parse, _ := keysFileFlag(env, "list", "[--file PATH]")
	if err := parse(args); err != nil {
		return err
	}
	f, err := auth.ReadKeyFile(*file)
	if err != nil {
		return err
	}
	now := time.Now()
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLES\tCREATED\tEXPIRES\tSTATE")
	for _, k := range f.Keys {
		names := make([]string, len(k.Roles))
		for i, r := range k.Roles {
			names[i] = string(r)
		}
		expires, state := "never", "active"
		if k.ExpiresAt != nil {
			expires = k.ExpiresAt.Format(time.RFC3339)
		}
		switch {
		case k.RevokedAt != nil && !now.Before(*k.RevokedAt):
			state = "revoked " + k.RevokedAt.Format(time.RFC3339)
		case !k.Active(now):
			state = "expired"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, strings.Join(names, ","), k.CreatedAt.Format(time.RFC3339), expires, state)
	}
	return tw.Flush()
}

func keysRevoke(_ context.Context, env Env, args []string) error {
	file, _, fs := keysFileFlag(env, "revoke", "[--file PATH] ID|NAME")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: name the key to revoke by its id or name", ErrUsage)
	}
	revoked, err := auth.RevokeKey(*file, fs.Arg(0), time.Now())
	if err != nil {
		return err
	}
	for _, k := range revoked {
		fmt.Fprintf(env.Stdout, "revoked %s (%s); services stop accepting it when they next reload %s\n", k.ID, k.Name, *file)
	}
	return nil
}

func roleList() string {
	names := make([]string, len(auth.Roles))
	for i, r := range auth.Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}
