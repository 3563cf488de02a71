// Package grpcapi serves the promotion service over gRPC: it parses
// resource names, converts between protobuf and domain types and calls the
// domain. Errors are returned as domain errors and mapped once by
// ErrorTable (errors.go).
package grpcapi

import (
	"context"
	"fmt"
	"strconv"
	"time"

	promotionv1 "github.com/tenurehq/tenure/gen/tenure/promotion/v1"
	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/promotion/internal/couponcode"
	"github.com/tenurehq/tenure/services/promotion/internal/pricing"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
	"google.golang.org/grpc"
)

// Server implements promotionv1.PromotionServiceServer.
type Server struct {
	promotionv1.UnsafePromotionServiceServer

	svc   *promotion.Service
	clock func() time.Time
}

// New returns a Server over svc.
func New(svc *promotion.Service, clock func() time.Time) *Server {
	return &Server{svc: svc, clock: clock}
}

// Register registers s on g.
func (s *Server) Register(g *grpc.Server) { promotionv1.RegisterPromotionServiceServer(g, s) }

func required(field string, present bool) error {
	if present {
		return nil
	}
	return &fielderr.Error{Path: field, Problem: "is required"}
}

// CreateCampaign implements promotionv1.PromotionServiceServer.
func (s *Server) CreateCampaign(ctx context.Context, req *promotionv1.CreateCampaignRequest) (*promotionv1.CreateCampaignResponse, error) {
	if err := required("campaign", req.GetCampaign() != nil); err != nil {
		return nil, err
	}
	c, err := toCampaign(req.GetCampaignId(), req.GetCampaign())
	if err != nil {
		return nil, err
	}
	if c, err = s.svc.CreateCampaign(ctx, c); err != nil {
		return nil, err
	}
	return &promotionv1.CreateCampaignResponse{Campaign: fromCampaign(c, s.clock())}, nil
}

// GetCampaign implements promotionv1.PromotionServiceServer.
func (s *Server) GetCampaign(ctx context.Context, req *promotionv1.GetCampaignRequest) (*promotionv1.GetCampaignResponse, error) {
	id, err := promotion.CampaignNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	c, err := s.svc.GetCampaign(ctx, id)
	if err != nil {
		return nil, err
	}
	return &promotionv1.GetCampaignResponse{Campaign: fromCampaign(c, s.clock())}, nil
}

// ListCampaigns implements promotionv1.PromotionServiceServer.
func (s *Server) ListCampaigns(ctx context.Context, req *promotionv1.ListCampaignsRequest) (*promotionv1.ListCampaignsResponse, error) {
	cs, next, err := s.svc.ListCampaigns(ctx, int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &promotionv1.ListCampaignsResponse{NextPageToken: next}
	now := s.clock()
	for _, c := range cs {
		out.Campaigns = append(out.Campaigns, fromCampaign(c, now))
	}
	return out, nil
}

// UpdateCampaign implements promotionv1.PromotionServiceServer.
func (s *Server) UpdateCampaign(ctx context.Context, req *promotionv1.UpdateCampaignRequest) (*promotionv1.UpdateCampaignResponse, error) {
	if err := required("campaign", req.GetCampaign() != nil); err != nil {
		return nil, err
	}
	id, err := promotion.CampaignNames.ParseID("campaign.name", req.GetCampaign().GetName())
	if err != nil {
		return nil, err
	}
	in, err := toCampaign(id, req.GetCampaign())
	if err != nil {
		return nil, err
	}
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 0 {
		return nil, &fielderr.Error{Path: "update_mask", Problem: "is empty", Fix: "name the fields to change, e.g. display_name, budget"}
	}
	c, err := s.svc.UpdateCampaign(ctx, id, func(c *promotion.Campaign) error { return applyCampaignMask(c, in, paths) })
	if err != nil {
		return nil, err
	}
	return &promotionv1.UpdateCampaignResponse{Campaign: fromCampaign(c, s.clock())}, nil
}

// applyCampaignMask copies the fields of paths from in to c.
func applyCampaignMask(c, in *promotion.Campaign, paths []string) error {
	for i, p := range paths {
		switch p {
		case "display_name":
			c.DisplayName = in.DisplayName
		case "objective":
			c.Objective = in.Objective
		case "kpi":
			c.KPIMetric, c.KPITarget = in.KPIMetric, in.KPITarget
		case "start_time":
			c.Start = in.Start
		case "end_time":
			c.End = in.End
		case "time_zone":
			c.TimeZone = in.TimeZone
		case "budget":
			c.Budget = in.Budget
		case "audience":
			if !c.ActivateTime.IsZero() && c.HoldoutPercent > 0 {
				return fielderr.New(fmt.Sprintf("update_mask.paths[%d]", i), "audience cannot change once a holdout campaign has started: its audience is frozen")
			}
			c.Audience = in.Audience
		case "holdout_percent":
			if !c.ActivateTime.IsZero() {
				return fielderr.New(fmt.Sprintf("update_mask.paths[%d]", i), "holdout_percent cannot change once the campaign has started")
			}
			c.HoldoutPercent = in.HoldoutPercent
		case "margin_percent":
			c.MarginPercent = in.MarginPercent
		default:
			return fielderr.New(fmt.Sprintf("update_mask.paths[%d]", i), "%s cannot be updated; updatable: display_name, objective, kpi, start_time, end_time, time_zone, budget, audience, holdout_percent, margin_percent", fielderr.Quote(p))
		}
	}
	return nil
}

func (s *Server) transition(ctx context.Context, name string, action promotion.Action) (*promotionv1.Campaign, error) {
	id, err := promotion.CampaignNames.ParseID("name", name)
	if err != nil {
		return nil, err
	}
	c, err := s.svc.Transition(ctx, id, action)
	if err != nil {
		return nil, err
	}
	return fromCampaign(c, s.clock()), nil
}

// ActivateCampaign implements promotionv1.PromotionServiceServer.
func (s *Server) ActivateCampaign(ctx context.Context, req *promotionv1.ActivateCampaignRequest) (*promotionv1.ActivateCampaignResponse, error) {
	c, err := s.transition(ctx, req.GetName(), promotion.ActionActivate)
	if err != nil {
		return nil, err
	}
	return &promotionv1.ActivateCampaignResponse{Campaign: c}, nil
}

// PauseCampaign implements promotionv1.PromotionServiceServer.
func (s *Server) PauseCampaign(ctx context.Context, req *promotionv1.PauseCampaignRequest) (*promotionv1.PauseCampaignResponse, error) {
	c, err := s.transition(ctx, req.GetName(), promotion.ActionPause)
	if err != nil {
		return nil, err
	}
	return &promotionv1.PauseCampaignResponse{Campaign: c}, nil
}

// EndCampaign implements promotionv1.PromotionServiceServer.
func (s *Server) EndCampaign(ctx context.Context, req *promotionv1.EndCampaignRequest) (*promotionv1.EndCampaignResponse, error) {
	c, err := s.transition(ctx, req.GetName(), promotion.ActionEnd)
	if err != nil {
		return nil, err
	}
	return &promotionv1.EndCampaignResponse{Campaign: c}, nil
}

// GetCampaignReport implements promotionv1.PromotionServiceServer.
func (s *Server) GetCampaignReport(ctx context.Context, req *promotionv1.GetCampaignReportRequest) (*promotionv1.GetCampaignReportResponse, error) {
	id, err := promotion.CampaignNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	r, err := s.svc.CampaignReport(ctx, id)
	if err != nil {
		return nil, err
	}
	return &promotionv1.GetCampaignReportResponse{Report: fromReport(r, s.clock())}, nil
}

// CreatePromotion implements promotionv1.PromotionServiceServer.
func (s *Server) CreatePromotion(ctx context.Context, req *promotionv1.CreatePromotionRequest) (*promotionv1.CreatePromotionResponse, error) {
	cid, err := promotion.CampaignNames.ParseID("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	if err := required("promotion", req.GetPromotion() != nil); err != nil {
		return nil, err
	}
	p, err := toPromotion(cid, req.GetPromotionId(), req.GetPromotion())
	if err != nil {
		return nil, err
	}
	if p, err = s.svc.CreatePromotion(ctx, p); err != nil {
		return nil, err
	}
	return &promotionv1.CreatePromotionResponse{Promotion: fromPromotion(p)}, nil
}

// GetPromotion implements promotionv1.PromotionServiceServer.
func (s *Server) GetPromotion(ctx context.Context, req *promotionv1.GetPromotionRequest) (*promotionv1.GetPromotionResponse, error) {
	ids, err := promotion.PromotionNames.Parse("name", req.GetName())
	if err != nil {
		return nil, err
	}
	p, err := s.svc.GetPromotion(ctx, ids[0], ids[1])
	if err != nil {
		return nil, err
	}
	return &promotionv1.GetPromotionResponse{Promotion: fromPromotion(p)}, nil
}

// ListPromotions implements promotionv1.PromotionServiceServer.
func (s *Server) ListPromotions(ctx context.Context, req *promotionv1.ListPromotionsRequest) (*promotionv1.ListPromotionsResponse, error) {
	cid, err := promotion.CampaignNames.ParseID("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	ps, next, err := s.svc.ListPromotions(ctx, cid, int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &promotionv1.ListPromotionsResponse{NextPageToken: next}
	for _, p := range ps {
		out.Promotions = append(out.Promotions, fromPromotion(p))
	}
	return out, nil
}

// UpdatePromotion implements promotionv1.PromotionServiceServer.
func (s *Server) UpdatePromotion(ctx context.Context, req *promotionv1.UpdatePromotionRequest) (*promotionv1.UpdatePromotionResponse, error) {
	if err := required("promotion", req.GetPromotion() != nil); err != nil {
		return nil, err
	}
	ids, err := promotion.PromotionNames.Parse("promotion.name", req.GetPromotion().GetName())
	if err != nil {
		return nil, err
	}
	in, err := toPromotion(ids[0], ids[1], req.GetPromotion())
	if err != nil {
		return nil, err
	}
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 0 {
		return nil, &fielderr.Error{Path: "update_mask", Problem: "is empty", Fix: "name the fields to change, e.g. priority, effect"}
	}
	p, err := s.svc.UpdatePromotion(ctx, ids[0], ids[1], func(p *promotion.Promotion) error { return applyPromotionMask(p, in, paths) })
	if err != nil {
		return nil, err
	}
	return &promotionv1.UpdatePromotionResponse{Promotion: fromPromotion(p)}, nil
}

// applyPromotionMask copies the fields of paths from in to p.
func applyPromotionMask(p, in *promotion.Promotion, paths []string) error {
	p.AmountCurrency = in.AmountCurrency
	for i, path := range paths {
		switch path {
		case "display_name":
			p.DisplayName = in.DisplayName
		case "priority":
			p.Def.Priority = in.Def.Priority
		case "stacking":
			p.Def.Stacking = in.Def.Stacking
		case "stack_group":
			p.Def.StackGroup = in.Def.StackGroup
		case "total_uses":
			p.TotalUses = in.TotalUses
		case "uses_per_customer":
			p.UsesPerCustomer = in.UsesPerCustomer
		case "budget":
			p.Budget = in.Budget
		case "stock":
			p.Stock = in.Stock
		case "conditions":
			p.Def.Conditions = in.Def.Conditions
		case "effect":
			p.Def.Effect = in.Def.Effect
		default:
			return fielderr.New(fmt.Sprintf("update_mask.paths[%d]", i), "%s cannot be updated; updatable: display_name, priority, stacking, stack_group, total_uses, uses_per_customer, budget, stock, conditions, effect", fielderr.Quote(path))
		}
	}
	return nil
}

// DeletePromotion implements promotionv1.PromotionServiceServer.
func (s *Server) DeletePromotion(ctx context.Context, req *promotionv1.DeletePromotionRequest) (*promotionv1.DeletePromotionResponse, error) {
	ids, err := promotion.PromotionNames.Parse("name", req.GetName())
	if err != nil {
		return nil, err
	}
	if err := s.svc.DeletePromotion(ctx, ids[0], ids[1]); err != nil {
		return nil, err
	}
	return &promotionv1.DeletePromotionResponse{}, nil
}

// GenerateCodes implements promotionv1.PromotionServiceServer.
func (s *Server) GenerateCodes(ctx context.Context, req *promotionv1.GenerateCodesRequest) (*promotionv1.GenerateCodesResponse, error) {
	ids, err := promotion.PromotionNames.Parse("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	spec := couponcode.Spec{Count: int(min(req.GetCount(), couponcode.MaxCount+1)), Length: int(req.GetLength()), Prefix: req.GetPrefix()}
	op, err := s.svc.GenerateCodes(ctx, ids[0], ids[1], spec, req.GetMaxUses())
	if err != nil {
		return nil, err
	}
	return &promotionv1.GenerateCodesResponse{Operation: fromOperation(op)}, nil
}

// ImportCodes implements promotionv1.PromotionServiceServer.
func (s *Server) ImportCodes(ctx context.Context, req *promotionv1.ImportCodesRequest) (*promotionv1.ImportCodesResponse, error) {
	ids, err := promotion.PromotionNames.Parse("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	codes := make([]promotion.Code, len(req.GetCodes()))
	for i, c := range req.GetCodes() {
		codes[i] = promotion.Code{Code: c.GetCode(), MaxUses: c.GetMaxUses(), CustomerID: c.GetCustomerId()}
	}
	n, err := s.svc.ImportCodes(ctx, ids[0], ids[1], codes)
	if err != nil {
		return nil, err
	}
	return &promotionv1.ImportCodesResponse{Imported: n}, nil
}

// ListCodes implements promotionv1.PromotionServiceServer.
func (s *Server) ListCodes(ctx context.Context, req *promotionv1.ListCodesRequest) (*promotionv1.ListCodesResponse, error) {
	ids, err := promotion.PromotionNames.Parse("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	codes, next, err := s.svc.ListCodes(ctx, ids[0], ids[1], int(req.GetPageSize()), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	out := &promotionv1.ListCodesResponse{NextPageToken: next, Codes: make([]*promotionv1.Code, len(codes))}
	for i, c := range codes {
		out.Codes[i] = fromCode(c)
	}
	return out, nil
}

// GetOperation implements promotionv1.PromotionServiceServer.
func (s *Server) GetOperation(ctx context.Context, req *promotionv1.GetOperationRequest) (*promotionv1.GetOperationResponse, error) {
	id, err := promotion.OperationNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	op, err := s.svc.GetOperation(ctx, id)
	if err != nil {
		return nil, err
	}
	return &promotionv1.GetOperationResponse{Operation: fromOperation(op)}, nil
}

// EvaluateCart implements promotionv1.PromotionServiceServer.
func (s *Server) EvaluateCart(ctx context.Context, req *promotionv1.EvaluateCartRequest) (*promotionv1.EvaluateCartResponse, error) {
	if err := checkCart(req.GetCart()); err != nil {
		return nil, err
	}
	res, err := s.svc.EvaluateCart(ctx, toCart(req.GetCart()))
	if err != nil {
		return nil, err
	}
	return &promotionv1.EvaluateCartResponse{Evaluation: fromResult(res)}, nil
}

// checkCart checks the cart's amounts are in its currency.
func checkCart(c *promotionv1.Cart) error {
	if err := required("cart", c != nil); err != nil {
		return err
	}
	cur := c.GetCurrencyCode()
	if f := c.GetShippingFee(); f != nil && f.GetCurrencyCode() != "" && f.GetCurrencyCode() != cur {
		return fielderr.New("cart.shipping_fee.currency_code", "must be the cart's currency %s", fielderr.Quote(cur))
	}
	for i, l := range c.GetLines() {
		if u := l.GetUnitPrice(); u != nil && u.GetCurrencyCode() != "" && u.GetCurrencyCode() != cur {
			return fielderr.New(fmt.Sprintf("cart.lines[%d].unit_price.currency_code", i), "must be the cart's currency %s", fielderr.Quote(cur))
		}
	}
	return nil
}

// RedeemCart implements promotionv1.PromotionServiceServer.
func (s *Server) RedeemCart(ctx context.Context, req *promotionv1.RedeemCartRequest) (*promotionv1.RedeemCartResponse, error) {
	if err := checkCart(req.GetCart()); err != nil {
		return nil, err
	}
	r, err := s.svc.RedeemCart(ctx, req.GetOrderId(), toCart(req.GetCart()), req.GetExpectedPromotions())
	if err != nil {
		return nil, err
	}
	return &promotionv1.RedeemCartResponse{Redemption: fromRedemption(r)}, nil
}

// GetRedemption implements promotionv1.PromotionServiceServer.
func (s *Server) GetRedemption(ctx context.Context, req *promotionv1.GetRedemptionRequest) (*promotionv1.GetRedemptionResponse, error) {
	id, err := promotion.RedemptionNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	r, err := s.svc.GetRedemption(ctx, id)
	if err != nil {
		return nil, err
	}
	return &promotionv1.GetRedemptionResponse{Redemption: fromRedemption(r)}, nil
}

// CancelRedemption implements promotionv1.PromotionServiceServer.
func (s *Server) CancelRedemption(ctx context.Context, req *promotionv1.CancelRedemptionRequest) (*promotionv1.CancelRedemptionResponse, error) {
	id, err := promotion.RedemptionNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	r, err := s.svc.CancelRedemption(ctx, id)
	if err != nil {
		return nil, err
	}
	return &promotionv1.CancelRedemptionResponse{Redemption: fromRedemption(r)}, nil
}

// RefundRedemption implements promotionv1.PromotionServiceServer.
func (s *Server) RefundRedemption(ctx context.Context, req *promotionv1.RefundRedemptionRequest) (*promotionv1.RefundRedemptionResponse, error) {
	id, err := promotion.RedemptionNames.ParseID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	lines := make([]pricing.ReturnedLine, len(req.GetLines()))
	for i, l := range req.GetLines() {
		lines[i] = pricing.ReturnedLine{LineID: l.GetLineId(), Quantity: l.GetQuantity()}
	}
	r, err := s.svc.RefundRedemption(ctx, id, lines, "")
	if err != nil {
		return nil, err
	}
	return &promotionv1.RefundRedemptionResponse{Redemption: fromRedemption(r)}, nil
}

// appendReason appends the words of a not-applied reason for people to b
// (nothing for a reason its code says all of).
func appendReason(b []byte, n pricing.NotApplied) []byte {
	num := func(v int64) { b = strconv.AppendInt(b, v, 10) }
	switch n.Reason {
	case pricing.ReasonMinSubtotalNotMet:
		b = append(b, "the eligible subtotal is "...)
		num(n.Seen)
		b = append(b, ", it needs "...)
		num(n.Needed)
	case pricing.ReasonMinQuantityNotMet:
		num(n.Seen)
		b = append(b, " eligible units, it needs "...)
		num(n.Needed)
	case pricing.ReasonBudgetExhausted:
		b = append(b, "the discount of "...)
		num(n.Needed)
		b = append(b, " is more than the "...)
		num(n.Seen)
		b = append(b, " left of its budget"...)
	case pricing.ReasonStockExhausted:
		num(n.Needed)
		b = append(b, " units needed, "...)
		num(n.Seen)
		b = append(b, " left"...)
	case pricing.ReasonExcludedByStacking:
		b = append(b, "excluded by "...)
		b = append(b, n.ByPromotionID...)
	case pricing.ReasonCodeNotFound:
		b = append(b, "no promotion has code "...)
		b = append(b, n.Code...)
	}
	return b
}
