package pricing

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

func TestValidate(t *testing.T) {
	ok := promo("p", pctLines(1000))
	with := func(f func(*Definition)) Definition {
		d := cloneDefinition(ok)
		f(&d)
		return d
	}
	eff := func(e Effect) Definition { return with(func(d *Definition) { d.Effect = e }) }
	win := func(w Window) Definition { return with(func(d *Definition) { d.Conditions.Window = &w }) }
	tests := []struct {
		name     string
		def      Definition
		wantPath string // "" = valid
	}{
		{"valid", ok, ""},
		{"every effect valid: amount", eff(amountOff(PerUnit, 1)), ""},
		{"every effect valid: tiers", eff(Effect{Tiered: &Tiered{Tiers: []Tier{{Threshold: 1, Amount: 1}, {Threshold: 2, BasisPoints: 1}}}}), ""},
		{"every effect valid: repeat", eff(Effect{Tiered: &Tiered{Repeat: &Repeat{Every: 1, Amount: 1}}}), ""},
		{"every effect valid: bxgy", eff(Effect{BuyXGetY: &BuyXGetY{Buy: 1, Get: 1, BasisPoints: 10000}}), ""},
		{"every effect valid: gift", eff(Effect{Gift: &Gift{SKU: "G", Quantity: 1}}), ""},
		{"every effect valid: shipping", eff(Effect{FreeShipping: &FreeShipping{}}), ""},
		{"every effect valid: flash", eff(Effect{FlashPrice: &FlashPrice{SKU: "X"}}), ""},
		{"valid window", win(Window{From: now, Until: now.Add(time.Hour), Weekdays: []time.Weekday{time.Sunday, time.Saturday}, DailyFrom: 1380, DailyUntil: 60, TimeZone: "Europe/London"}), ""},
		{"id", with(func(d *Definition) { d.ID = "" }), "id"},
		{"campaign", with(func(d *Definition) { d.CampaignID = "" }), "campaign_id"},
		{"kind", with(func(d *Definition) { d.Kind = 0 }), "kind"},
		{"stacking", with(func(d *Definition) { d.Stacking = 3 }), "stacking"},
		{"stack group too long", with(func(d *Definition) { d.StackGroup = strings.Repeat("g", 129) }), "stack_group"},
		{"currency", with(func(d *Definition) { d.Currency = "gbp" }), "currency"},
		{"min subtotal", with(func(d *Definition) { d.Conditions.MinSubtotal = -1 }), "conditions.min_subtotal"},
		{"min subtotal huge", with(func(d *Definition) { d.Conditions.MinSubtotal = MaxAmount + 1 }), "conditions.min_subtotal"},
		{"min quantity", with(func(d *Definition) { d.Conditions.MinQuantity = -1 }), "conditions.min_quantity"},
		{"empty sku", with(func(d *Definition) { d.Conditions.IncludeSKUs = []string{"a", ""} }), "conditions.include_skus[1]"},
		{"empty category", with(func(d *Definition) { d.Conditions.ExcludeCategories = []string{""} }), "conditions.exclude_categories[0]"},
		{"too many channels", with(func(d *Definition) { d.Conditions.Channels = make([]string, 1001) }), "conditions.channels"},
		{"window backwards", win(Window{From: now, Until: now}), "conditions.window.until"},
		{"weekday", win(Window{Weekdays: []time.Weekday{7}}), "conditions.window.weekdays[0]"},
		{"daily from", win(Window{DailyFrom: -1}), "conditions.window.daily_from"},
		{"daily until", win(Window{DailyUntil: 1441}), "conditions.window.daily_until"},
		{"daily empty", win(Window{DailyFrom: 60, DailyUntil: 60}), "conditions.window.daily_until"},
		{"time zone", win(Window{TimeZone: "Mars/Olympus"}), "conditions.window.time_zone"},
		{"no effect", eff(Effect{}), "effect"},
		{"two effects", eff(Effect{PercentOff: &PercentOff{Scope: ScopeLines, BasisPoints: 1}, Gift: &Gift{SKU: "G", Quantity: 1}}), "effect"},
		{"percent scope", eff(Effect{PercentOff: &PercentOff{BasisPoints: 1}}), "effect.percent_off.scope"},
		{"percent zero", eff(pctLines(0)), "effect.percent_off.basis_points"},
		{"percent over 100", eff(pctLines(10001)), "effect.percent_off.basis_points"},
		{"percent cap", eff(pctOrder(1, -1)), "effect.percent_off.cap"},
		{"amount mode", eff(amountOff(0, 1)), "effect.amount_off.mode"},
		{"amount zero", eff(amountOff(OnOrder, 0)), "effect.amount_off.amount"},
		{"tiers and repeat", eff(Effect{Tiered: &Tiered{Tiers: []Tier{{Threshold: 1, Amount: 1}}, Repeat: &Repeat{Every: 1, Amount: 1}}}), "effect.tiered"},
		{"neither tiers nor repeat", eff(Effect{Tiered: &Tiered{}}), "effect.tiered"},
		{"tier threshold", eff(Effect{Tiered: &Tiered{Tiers: []Tier{{Threshold: 0, Amount: 1}}}}), "effect.tiered.tiers[0].threshold"},
		{"tier duplicate", eff(Effect{Tiered: &Tiered{Tiers: []Tier{{Threshold: 5, Amount: 1}, {Threshold: 5, Amount: 2}}}}), "effect.tiered.tiers[1].threshold"},
		{"tier both", eff(Effect{Tiered: &Tiered{Tiers: []Tier{{Threshold: 5, Amount: 1, BasisPoints: 1}}}}), "effect.tiered.tiers[0]"},
		{"tier percent", eff(Effect{Tiered: &Tiered{Tiers: []Tier{{Threshold: 5, BasisPoints: 20000}}}}), "effect.tiered.tiers[0].basis_points"},
		{"repeat every", eff(Effect{Tiered: &Tiered{Repeat: &Repeat{Amount: 1}}}), "effect.tiered.repeat.every"},
		{"repeat max", eff(Effect{Tiered: &Tiered{Repeat: &Repeat{Every: 1, Amount: 1, MaxCount: -1}}}), "effect.tiered.repeat.max_count"},
		{"bxgy buy", eff(Effect{BuyXGetY: &BuyXGetY{Get: 1, BasisPoints: 1}}), "effect.buy_x_get_y.buy"},
		{"bxgy get", eff(Effect{BuyXGetY: &BuyXGetY{Buy: 1, BasisPoints: 1}}), "effect.buy_x_get_y.get"},
		{"bxgy percent", eff(Effect{BuyXGetY: &BuyXGetY{Buy: 1, Get: 1}}), "effect.buy_x_get_y.basis_points"},
		{"bxgy get sku", eff(Effect{BuyXGetY: &BuyXGetY{Buy: 1, Get: 1, BasisPoints: 1, GetSKUs: []string{""}}}), "effect.buy_x_get_y.get_skus[0]"},
		{"gift sku", eff(Effect{Gift: &Gift{Quantity: 1}}), "effect.gift.sku"},
		{"gift quantity", eff(Effect{Gift: &Gift{SKU: "G"}}), "effect.gift.quantity"},
		{"shipping cap", eff(Effect{FreeShipping: &FreeShipping{Cap: -1}}), "effect.free_shipping.cap"},
		{"flash sku", eff(Effect{FlashPrice: &FlashPrice{}}), "effect.flash_price.sku"},
		{"flash price", eff(Effect{FlashPrice: &FlashPrice{SKU: "X", UnitPrice: -1}}), "effect.flash_price.unit_price"},
		{"flash limit", eff(Effect{FlashPrice: &FlashPrice{SKU: "X", PerCustomerUnitLimit: -1}}), "effect.flash_price.per_customer_unit_limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.def)
			if tt.wantPath == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				if _, err := Compile(tt.def); err != nil {
					t.Fatalf("Compile: %v", err)
				}
				return
			}
			var fe *fielderr.Error
			if !errors.As(err, &fe) || fe.Path != tt.wantPath || !errors.Is(err, fielderr.ErrInvalidArgument) {
				t.Fatalf("Validate: %v, want a field error at %s", err, tt.wantPath)
			}
			if fe.Problem == "" {
				t.Fatalf("%s: empty problem", tt.wantPath)
			}
			if _, err := Compile(tt.def); err == nil {
				t.Fatal("Compile accepted an invalid definition")
			}
		})
	}
}

func TestCompileCopiesTheDefinition(t *testing.T) {
	d := promo("p", pctLines(1000), cond(func(c *Conditions) { c.IncludeSKUs = []string{"sku-a"} }))
	p := MustCompile(d)
	d.Conditions.IncludeSKUs[0] = "other"
	d.Effect.PercentOff.BasisPoints = 5000
	r, err := Evaluate(gbp(line("a", 1, 1000)), []Candidate{{Promotion: p, Facts: OpenFacts()}}, Context{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if r.Total != 900 {
		t.Fatalf("total %d, want 900: the compiled promotion must not see later edits", r.Total)
	}
	if got := p.Definition(); got.Conditions.IncludeSKUs[0] != "sku-a" || got.Effect.PercentOff.BasisPoints != 1000 || p.ID() != "p" || p.CampaignID() != "camp" || p.Kind() != KindAutomatic {
		t.Fatalf("Definition() = %+v", got)
	}
}

func TestValidateCart(t *testing.T) {
	ok := func() Cart { return gbp(line("a", 2, 500), line("b", 1, 100)) }
	with := func(f func(*Cart)) Cart {
		c := ok()
		f(&c)
		return c
	}
	tests := []struct {
		name     string
		cart     Cart
		wantPath string
	}{
		{"valid", ok(), ""},
		{"empty cart is valid", gbp(), ""},
		{"currency", with(func(c *Cart) { c.Currency = "" }), "currency_code"},
		{"too many lines", with(func(c *Cart) { c.Lines = make([]Line, MaxLines+1) }), "lines"},
		{"shipping", with(func(c *Cart) { c.ShippingFee = -1 }), "shipping_fee"},
		{"codes", with(func(c *Cart) { c.Codes = make([]string, MaxCodes+1) }), "codes"},
		{"line id", with(func(c *Cart) { c.Lines[1].ID = "" }), "lines[1].line_id"},
		{"duplicate line id", with(func(c *Cart) { c.Lines[1].ID = "a" }), "lines[1].line_id"},
		{"duplicate line id in a long cart", with(func(c *Cart) {
			for i := range 40 {
				c.Lines = append(c.Lines, line(fmt.Sprint("x", i), 1, 1))
			}
			c.Lines[41].ID = "x3"
		}), "lines[41].line_id"},
		{"quantity zero", with(func(c *Cart) { c.Lines[0].Quantity = 0 }), "lines[0].quantity"},
		{"quantity huge", with(func(c *Cart) { c.Lines[0].Quantity = MaxQuantity + 1 }), "lines[0].quantity"},
		{"negative price", with(func(c *Cart) { c.Lines[0].UnitPrice = -1 }), "lines[0].unit_price"},
		{"line over the bound", with(func(c *Cart) { c.Lines[0].UnitPrice = MaxAmount/2 + 1 }), "lines[0].unit_price"},
		{"subtotal over the bound", with(func(c *Cart) { c.Lines[0].UnitPrice = MaxAmount / 2; c.Lines[1].UnitPrice = 1 }), "lines[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateCart(tt.cart)
			if tt.wantPath == "" {
				if err != nil {
					t.Fatalf("ValidateCart: %v", err)
				}
				return
			}
			var fe *fielderr.Error
			if !errors.As(err, &fe) || fe.Path != tt.wantPath {
				t.Fatalf("ValidateCart: %v, want a field error at %s", err, tt.wantPath)
			}
			if _, err := Evaluate(tt.cart, nil, Context{Now: now}); err == nil {
				t.Fatal("Evaluate accepted an invalid cart")
			}
		})
	}
}
