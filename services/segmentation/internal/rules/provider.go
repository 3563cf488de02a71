package rules

import (
	"fmt"
	"reflect"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// structDef is one of the struct types the environment declares
// (features, rfm): its fields with their index in the evaluator's cache.
type structDef struct {
	typ    *types.Type
	names  []string
	fields map[string]*types.FieldType
}

// provider declares the features and rfm struct types on top of CEL's
// standard registry. Field access reads straight from the evaluator's
// per-customer cache, so no protobuf message is built per customer.
type provider struct {
	types.Provider
	structs map[string]*structDef
}

func newProvider(base types.Provider) *provider {
	p := &provider{Provider: base, structs: map[string]*structDef{}}
	p.add(featuresType, featuresFields, 0)
	p.add(rfmType, rfmFields, len(featuresFields))
	p.add(recommendationsType, recommendationsFields, len(featuresFields)+len(rfmFields))
	p.add(predictionType, predictionFields, firstPrediction)
	return p
}

func (p *provider) add(t *types.Type, fields []field, first int) {
	d := &structDef{typ: t, fields: map[string]*types.FieldType{}}
	for i, f := range fields {
		idx := first + i
		d.names = append(d.names, f.name)
		d.fields[f.name] = &types.FieldType{
			Type:  f.typ,
			IsSet: func(any) bool { return true },
			GetFrom: func(obj any) (any, error) {
				o, ok := obj.(*object)
				if !ok {
					return nil, fmt.Errorf("rules: no field %q on %T", f.name, obj)
				}
				return o.ev.value(idx), nil
			},
		}
	}
	p.structs[t.TypeName()] = d
}

// FindStructType implements types.Provider.
func (p *provider) FindStructType(name string) (*types.Type, bool) {
	if d, ok := p.structs[name]; ok {
		return types.NewTypeTypeWithParam(d.typ), true
	}
	return p.Provider.FindStructType(name)
}

// FindStructFieldNames implements types.Provider.
func (p *provider) FindStructFieldNames(name string) ([]string, bool) {
	if d, ok := p.structs[name]; ok {
		return d.names, true
	}
	return p.Provider.FindStructFieldNames(name)
}

// FindStructFieldType implements types.Provider.
func (p *provider) FindStructFieldType(name, fieldName string) (*types.FieldType, bool) {
	if d, ok := p.structs[name]; ok {
		ft, ok := d.fields[fieldName]
		return ft, ok
	}
	return p.Provider.FindStructFieldType(name, fieldName)
}

// NewValue implements types.Provider; features and rfm can't be built in a rule.
func (p *provider) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if _, ok := p.structs[name]; ok {
		return types.NewErr("rules: %s values cannot be constructed", name)
	}
	return p.Provider.NewValue(name, fields)
}

// object is the value of the features or rfm variable while one customer is
// evaluated. Its fields are read through the provider's FieldType.GetFrom.
type object struct {
	typ *types.Type
	ev  *Evaluator
}

// ConvertToNative implements ref.Val.
func (o *object) ConvertToNative(reflect.Type) (any, error) {
	return nil, fmt.Errorf("rules: %s has no native representation", o.typ.TypeName())
}

// ConvertToType implements ref.Val.
func (o *object) ConvertToType(t ref.Type) ref.Val {
	if t == types.TypeType {
		return o.typ
	}
	return types.NewErr("rules: type conversion error from %s to %s", o.typ.TypeName(), t.TypeName())
}

// Equal implements ref.Val; objects are only equal to themselves.
func (o *object) Equal(other ref.Val) ref.Val { return types.Bool(o == other) }

// Type implements ref.Val.
func (o *object) Type() ref.Type { return o.typ }

// Value implements ref.Val.
func (o *object) Value() any { return o }
