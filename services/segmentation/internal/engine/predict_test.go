package engine_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/segmentation/internal/engine"
	"github.com/tenurehq/tenure/services/segmentation/internal/prediction/predictiontest"
	"github.com/tenurehq/tenure/services/segmentation/internal/rules"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
	"github.com/tenurehq/tenure/services/segmentation/internal/store"
)

// recomputeAt runs a recompute as of asOf and returns its finished
// operation once its snapshot is installed.
func recomputeAt(t *testing.T, e *engine.Engine, st *store.Store, asOf time.Time) segmentation.Operation {
	t.Helper()
	op, err := e.Start(context.Background(), asOf, segmentation.TriggerAPI)
	if err != nil {
		t.Fatal(err)
	}
	var done segmentation.Operation
	// The operation ends in the store and its snapshot is installed, in
	// either order: wait for both.
	waitUntil(t, "the recompute to finish", func() bool {
		_, installed := e.Snapshot()
		done, err = st.GetOperation(context.Background(), op.ID)
		return err == nil && (done.State == segmentation.OperationFailed ||
			done.State == segmentation.OperationSucceeded && installed.ID == op.ID)
	})
	if done.State != segmentation.OperationSucceeded {
		t.Fatalf("recompute failed: %s", done.Error)
	}
	return done
}

// A recompute whose fit cannot converge keeps the last good model, says
// so, and its predictions and rules use that model.
func TestPredictionKeepsPreviousModel(t *testing.T) {
	ctx := context.Background()
	st := store.New(sqlstoretest.SQLite(t))
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	hist := predictiontest.DefaultProcess.Histories(2000, segmentation.DayOf(end), 7)
	var muts []segmentation.Mutation
	for i, h := range hist {
		muts = append(muts, segmentation.Mutation{Kind: segmentation.MutationUpsert, ID: fmt.Sprintf("c%04d", i), Purchases: h,
			Features: &segmentation.Features{OrderCount: int64(len(h)), FirstOrderTime: segmentation.TimeOfDay(h[0].Day),
				LastOrderTime: segmentation.TimeOfDay(h[len(h)-1].Day), Currency: "EUR"}})
	}
	if err := st.ApplyPage(ctx, muts, 1, nil); err != nil {
		t.Fatal(err)
	}
	env, err := rules.NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	svc := segmentation.NewService(st, engine.RuleChecker(env))
	if _, err := svc.CreateSegment(ctx, segmentation.SegmentDef{ID: "fading", DisplayName: "Fading", Kind: segmentation.SegmentKindRule,
		Rule: `prediction.predicted && prediction.p_alive < 0.5`}); err != nil {
		t.Fatal(err)
	}
	e := engine.New(engine.Config{Store: st, Settings: segmentation.SettingsSource{Store: st}, Rules: env,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(e.Close)

	good := recomputeAt(t, e, st, end)
	p := good.Report.Prediction
	if p == nil || p.Model == nil || !p.BGNBD.Converged || !p.GammaGamma.Converged || p.ModelOperation != good.ID || p.Customers != 2000 {
		t.Fatalf("first recompute's prediction: %+v", p)
	}
	if p.Backtest != nil {
		t.Errorf("backtest without orders after as_of: %v", p.Backtest)
	}
	// Two years earlier hardly anyone had bought yet: too few to fit.
	early := end.AddDate(-2, 0, 3)
	kept := recomputeAt(t, e, st, early)
	k := kept.Report.Prediction
	if k.BGNBD.Converged || k.Model == nil || *k.Model != *p.Model || k.ModelOperation != good.ID {
		t.Fatalf("second recompute: fit %+v, model %+v from %s; want the first model, from %s", k.BGNBD, k.Model, k.ModelOperation, good.ID)
	}
	if len(k.Backtest) == 0 {
		t.Error("no backtest although orders after as_of are known")
	}
	// Customers with an order before the early as_of are predicted with the
	// kept model, the others not at all.
	for i, h := range hist {
		id := fmt.Sprintf("c%04d", i)
		sc, err := e.CustomerScores(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		pred, _, err := e.CustomerPrediction(ctx, id, sc.Operation, 0)
		if err != nil {
			t.Fatal(err)
		}
		before := h[0].Day < segmentation.DayOf(early)
		if pred.Predicted != before {
			t.Fatalf("%s: predicted %v, want %v", id, pred.Predicted, before)
		}
		want := engine.Predict(*p.Model, h, kept, segmentation.PredictionSettings{}.Effective())
		if pred != want {
			t.Fatalf("%s: got %+v, want %+v", id, pred, want)
		}
		inFading := sc.SegmentIDs != nil && sc.SegmentIDs[0] == "fading"
		if inFading != (pred.Predicted && pred.PAlive < 0.5) {
			t.Fatalf("%s: in fading %v with pAlive %g", id, inFading, pred.PAlive)
		}
	}
}
