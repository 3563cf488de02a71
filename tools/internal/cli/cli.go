// Package cli implements tenurectl, Tenure's operator command line: a table
// of commands, each "<group> <name>" with its own flag set.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// ErrUsage marks a command line that does not parse; Run exits with 2.
var ErrUsage = errors.New("tenurectl: usage")

// Env is what commands see of the process.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	// Terminal reports whether Stderr is a terminal, where progress is drawn.
	Terminal bool
}

type command struct {
	group, name string
	summary     string
	run         func(ctx context.Context, env Env, args []string) error
}

func commands() []command {
	return []command{
		{"import", "online-retail", "import the UCI Online Retail CSV as order and refund events", importOnlineRetail},
		{"import", "cdnow", "import the CDNOW purchase histories as order events", importCDNOW},
		{"segments", "recompute", "start a recompute of scores and segments; --wait follows its progress", segmentsRecompute},
		{"segments", "report", "print the distribution of the last recompute", segmentsReport},
		{"recommendations", "evaluate", "backtest the recommendation model at a split time against the popularity baseline", recommendationsEvaluate},
		{"customers", "show", "show a customer's profile, features, scores and segments", customersShow},
		{"loyalty", "show", "show a member's tier and points", loyaltyShow},
		{"loyalty", "ledger", "list a member's newest ledger entries", loyaltyLedger},
		{"loyalty", "adjust", "credit or debit a member's points, with a reason", loyaltyAdjust},
		{"loyalty", "report", "print the programme's liability, monthly totals and members per tier", loyaltyReport},
		{"loyalty", "run", "run the expire, tiers or birthdays job as of a time", loyaltyRun},
		{"tickets", "list", "list feedback tickets, newest first, optionally filtered", ticketsList},
		{"tickets", "show", "show a ticket with its SLA targets, escalations and comments", ticketsShow},
		{"tickets", "run", "run a job now: escalation [--as-of TIME] sweeps the SLA escalation steps", ticketsRun},
		{"campaigns", "list", "list the campaigns with their state and budget", campaignsList},
		{"campaigns", "show", "show a campaign with its promotions' usage", campaignsShow},
		{"campaigns", "report", "print a campaign's redemptions, cost, revenue, holdout lift and ROI", campaignsReport},
		{"codes", "generate", "generate coupon codes for CAMPAIGN/PROMOTION, following the operation's progress", codesGenerate},
		{"codes", "export", "write CAMPAIGN/PROMOTION's codes as CSV", codesExport},
		{"journeys", "list", "list the outreach journeys with their state, trigger and channels", journeysList},
		{"journeys", "show", "show a journey: trigger, channels, templates, state and times", journeysShow},
		{"messages", "show", "list a customer's outreach messages, newest first, with the states each went through", messagesShow},
		{"carts", "evaluate", "price a cart from a JSON file: discounts, total and why promotions did not apply", cartsEvaluate},
		{"keys", "create", "create an API key with roles; it is printed once, the key file keeps its hash", keysCreate},
		{"keys", "list", "list the API keys of the key file: id, name, roles, expiry, state", keysList},
		{"keys", "revoke", "revoke an API key by id or name; services refuse it at their next reload", keysRevoke},
		{"surveys", "report", "print a survey's NPS or CSAT overall and per group, with detractors' comments", surveysReport},
		{"journeys", "report", "print a journey's messages by outcome and the orders that followed, against its holdout", journeysReport},
		{"surveys", "send", "invite customers to a survey now, through its outreach journey, once per occurrence", surveysSend},
	}
}

// Run executes the command named by args (without the program name) and
// returns the process exit code: 0 success, 1 failure, 2 bad usage.
func Run(ctx context.Context, env Env, args []string) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(env.Stderr, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if len(args) < 2 {
		fmt.Fprintf(env.Stderr, "tenurectl: %q needs a command\n\n", args[0])
		usage(env.Stderr, cmds)
		return 2
	}
	for _, c := range cmds {
		if c.group == args[0] && c.name == args[1] {
			err := c.run(ctx, env, args[2:])
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, ErrUsage):
				fmt.Fprintln(env.Stderr, err)
				return 2
			default:
				fmt.Fprintln(env.Stderr, "tenurectl:", err)
				return 1
			}
		}
	}
	fmt.Fprintf(env.Stderr, "tenurectl: unknown command %q\n\n", strings.Join(args[:2], " "))
	usage(env.Stderr, cmds)
	return 2
}

func usage(w io.Writer, cmds []command) {
	fmt.Fprintln(w, "usage: tenurectl <group> <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	for _, c := range cmds {
		fmt.Fprintf(tw, "  %s %s\t%s\n", c.group, c.name, c.summary)
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, `run "tenurectl <group> <command> -h" for its flags`)
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(env Env, group, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("tenurectl "+group+" "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "usage: tenurectl %s %s %s\n\nflags:\n", group, name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, turning a parse failure into ErrUsage (the flag
// package has already printed why) and refusing stray arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	return nil
}
