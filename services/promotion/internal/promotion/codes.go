package promotion

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/platform/paging"
	"github.com/tenurehq/tenure/services/promotion/internal/couponcode"
	"github.com/tenurehq/tenure/services/promotion/internal/pricing"
)

// codeBatch is how many codes one insert takes.
const codeBatch = 20000

// MaxImport is the most codes one ImportCodes takes.
const MaxImport = 10000

// codePromotion returns a promotion that takes codes.
func (s *Service) codePromotion(ctx context.Context, campaignID, promotionID string) (*Promotion, error) {
	p, err := s.store.GetPromotion(ctx, campaignID, promotionID)
	if err != nil {
		return nil, err
	}
	if p.Def.Kind != pricing.KindCode {
		return nil, fmt.Errorf("%w: %s is automatic", ErrNotACodePromotion, p.Name())
	}
	return p, nil
}

// GenerateCodes starts generating codes for a code promotion and returns
// the running operation; the codes are inserted in the background (ctx of
// Run), in batches, with progress on the operation.
func (s *Service) GenerateCodes(ctx context.Context, campaignID, promotionID string, spec couponcode.Spec, maxUses int64) (*Operation, error) {
	if spec.Length == 0 {
		spec.Length = 10
	}
	spec.Prefix = couponcode.Normalize(spec.Prefix)
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if maxUses == 0 {
		maxUses = 1
	}
	if maxUses < 0 {
		return nil, fielderr.New("max_uses", "must not be negative, got %d", maxUses)
	}
	if _, err := s.codePromotion(ctx, campaignID, promotionID); err != nil {
		return nil, err
	}
	gen, err := couponcode.NewGenerator(spec)
	if err != nil {
		return nil, err
	}
	var id [12]byte
	_, _ = rand.Read(id[:])
	op := &Operation{ID: hex.EncodeToString(id[:]), CampaignID: campaignID, PromotionID: promotionID, State: OpRunning,
		Total: int64(spec.Count), CreateTime: s.clock().UTC()}
	if err := s.store.CreateOperation(ctx, op); err != nil {
		return nil, err
	}
	started := *op
	s.jobs.Go(func() { s.generate(op, gen, maxUses) })
	return &started, nil
}

// generate draws the whole count, sorts it and inserts it batch by batch,
// replacing any codes that were already taken. In code order each batch
// fills neighbouring pages of the codes' indexes, where random codes would
// touch (and rewrite) nearly every page of them in every batch. The
// progress is stored with each batch.
func (s *Service) generate(op *Operation, gen *couponcode.Generator, maxUses int64) {
	ctx := s.background
	err := func() error {
		all, err := gen.Next(gen.Remaining())
		if err != nil {
			return err
		}
		slices.Sort(all)
		for len(all) > 0 {
			n := min(codeBatch, len(all))
			if err := s.insertGenerated(ctx, op, gen, all[:n], maxUses); err != nil {
				return err
			}
			all = all[n:]
		}
		return nil
	}()
	op.State, op.EndTime = OpSucceeded, s.clock().UTC()
	if err != nil {
		op.State, op.Error = OpFailed, err.Error()
		s.logger.Error("promotion: code generation failed", "operation", op.ID, "error", err)
	}
	if err := s.store.UpdateOperation(context.WithoutCancel(ctx), op); err != nil {
		s.logger.Error("promotion: recording code generation", "operation", op.ID, "error", err)
	}
}

// insertGenerated inserts batch, then replacements for the codes of it
// that were taken until none are, counting them on op.
func (s *Service) insertGenerated(ctx context.Context, op *Operation, gen *couponcode.Generator, batch []string, maxUses int64) error {
	for len(batch) > 0 {
		codes := make([]Code, len(batch))
		for i, c := range batch {
			codes[i] = Code{Code: c, CampaignID: op.CampaignID, PromotionID: op.PromotionID, MaxUses: maxUses}
		}
		taken, err := s.store.InsertCodes(ctx, codes, op)
		if err != nil {
			return err
		}
		if batch, err = gen.Replace(len(taken)); err != nil {
			return err
		}
		slices.Sort(batch)
	}
	return nil
}

// ImportCodes adds given codes to a code promotion.
func (s *Service) ImportCodes(ctx context.Context, campaignID, promotionID string, codes []Code) (int64, error) {
	if len(codes) == 0 || len(codes) > MaxImport {
		return 0, fielderr.New("codes", "must hold 1 to %d codes, got %d", MaxImport, len(codes))
	}
	if _, err := s.codePromotion(ctx, campaignID, promotionID); err != nil {
		return 0, err
	}
	for i := range codes {
		c := &codes[i]
		c.Code, c.CampaignID, c.PromotionID, c.Uses = couponcode.Normalize(c.Code), campaignID, promotionID, 0
		if err := couponcode.Check(fmt.Sprintf("codes[%d].code", i), c.Code); err != nil {
			return 0, err
		}
		if c.MaxUses == 0 {
			c.MaxUses = 1
		}
		if c.MaxUses < 0 {
			return 0, fielderr.New(fmt.Sprintf("codes[%d].max_uses", i), "must not be negative, got %d", c.MaxUses)
		}
	}
	taken, err := s.store.InsertCodes(ctx, codes, nil)
	if err != nil {
		return 0, err
	}
	if len(taken) > 0 {
		return int64(len(codes) - len(taken)), fmt.Errorf("%w: %s (the others were imported)", ErrCodeAlreadyExists, taken[0])
	}
	return int64(len(codes)), nil
}

// ListCodes pages through a promotion's codes.
func (s *Service) ListCodes(ctx context.Context, campaignID, promotionID string, pageSize int, token string) ([]Code, string, error) {
	page, err := paging.Parse(CodePageSizes, pageSize, token, paging.For("ListCodes").With("parent", PromotionNames.Format(campaignID, promotionID)))
	if err != nil {
		return nil, "", err
	}
	if _, err := s.codePromotion(ctx, campaignID, promotionID); err != nil {
		return nil, "", err
	}
	codes, err := s.store.ListCodes(ctx, campaignID, promotionID, page.After, page.Limit())
	if err != nil {
		return nil, "", err
	}
	out, next := paging.Cut(page, codes, func(c Code) string { return c.Code })
	return out, next, nil
}

// GetOperation returns a code generation operation.
func (s *Service) GetOperation(ctx context.Context, id string) (*Operation, error) {
	return s.store.GetOperation(ctx, id)
}
