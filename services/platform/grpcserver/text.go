package grpcserver

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tenurehq/tenure/services/platform/apierr"
)

// textError reports a request string that no storage engine can hold: one
// with a NUL character (PostgreSQL text cannot store U+0000) or one that is
// not valid UTF-8. It is an apierr.FieldViolation matching
// apierr.ErrInvalidText, so every service's error table answers it with
// INVALID_ARGUMENT, reason INVALID_TEXT, the field path in the ErrorInfo
// metadata and a BadRequest entry.
type textError struct {
	field   string // path as the proto API names it: events[3].customer_id
	problem string // what is wrong with the value
}

func (e *textError) Error() string { return e.field + " " + e.problem }

// Description is the BadRequest entry's text, which names the field apart.
func (e *textError) Description() string { return e.problem }

func (e *textError) Field() string { return e.field }

func (e *textError) ErrorMetadata() map[string]string { return map[string]string{"field": e.field} }

func (e *textError) Unwrap() error { return apierr.ErrInvalidText }

const (
	problemNUL  = "contains a NUL character (U+0000), which cannot be stored; remove it"
	problemUTF8 = "is not valid UTF-8; send text encoded as UTF-8"
)

// textProblem says what is wrong with the string s, or "" if it can be
// stored.
func textProblem(s []byte) string {
	switch {
	case bytes.IndexByte(s, 0) >= 0:
		return problemNUL
	case !utf8.Valid(s):
		return problemUTF8
	}
	return ""
}

// wireText returns a *textError for the first string field in b, the wire
// encoding of a message of type md, that cannot be stored, or nil. It
// descends into message fields, repeated fields and map entries and names
// the field the way the proto API does: events[3].order_placed.lines[1].sku,
// fields["k"].string_value. Unknown fields are skipped (they are not
// stored), and so is whatever does not parse (the decoder reports it).
func wireText(b []byte, md protoreflect.MessageDescriptor) error {
	if f := wireMessage(b, md, 0); f != nil {
		return &textError{field: f.path(), problem: f.problem}
	}
	return nil
}

// maxWireDepth bounds the recursion of wireMessage like protobuf's decoder
// bounds its own.
const maxWireDepth = 10000

func wireMessage(b []byte, md protoreflect.MessageDescriptor, depth int) *textFault {
	if depth > maxWireDepth {
		return nil
	}
	var seen map[protowire.Number]int // occurrences of list fields so far
	for len(b) > 0 {
		num, v, rest, ok := nextBytesField(b)
		if !ok {
			return nil
		}
		b = rest
		fd := md.Fields().ByNumber(num)
		if v == nil || fd == nil {
			continue
		}
		var f *textFault
		switch {
		case fd.IsMap():
			f = wireMapEntry(v, fd, depth)
		case fd.Kind() == protoreflect.StringKind:
			if p := textProblem(v); p != "" {
				f = &textFault{problem: p}
			}
		case fd.Kind() == protoreflect.MessageKind:
			f = wireMessage(v, fd.Message(), depth+1)
		}
		i := 0
		if fd.IsList() {
			if seen == nil {
				seen = map[protowire.Number]int{}
			}
			i = seen[num]
			seen[num]++
		}
		if f == nil {
			continue
		}
		if fd.IsList() {
			f.in("[" + strconv.Itoa(i) + "]")
		}
		return f.in(string(fd.Name()))
	}
	return nil
}

// nextBytesField consumes the first field of b. v is the field's content
// if it is length-delimited (a string, bytes, message, map entry or packed
// list) and nil otherwise; ok is false when b does not parse.
func nextBytesField(b []byte) (num protowire.Number, v, rest []byte, ok bool) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return 0, nil, nil, false
	}
	b = b[n:]
	if typ != protowire.BytesType {
		if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
			return 0, nil, nil, false
		}
		return num, nil, b[n:], true
	}
	v, n = protowire.ConsumeBytes(b)
	if n < 0 {
		return 0, nil, nil, false
	}
	if v == nil {
		v = []byte{}
	}
	return num, v, b[n:], true
}

// wireMapEntry checks one map entry: key field 1, value field 2.
func wireMapEntry(b []byte, fd protoreflect.FieldDescriptor, depth int) *textFault {
	var key, val []byte
	for len(b) > 0 {
		num, v, rest, ok := nextBytesField(b)
		if !ok {
			return nil
		}
		b = rest
		switch {
		case v == nil:
		case num == 1:
			key = v
		case num == 2:
			val = v
		}
	}
	seg := "[" + strconv.Quote(string(key)) + "]"
	if fd.MapKey().Kind() == protoreflect.StringKind {
		if p := textProblem(key); p != "" {
			return &textFault{segs: []string{seg}, problem: "has a key that " + p}
		}
	}
	if val == nil {
		return nil
	}
	var f *textFault
	switch vd := fd.MapValue(); vd.Kind() {
	case protoreflect.StringKind:
		if p := textProblem(val); p != "" {
			f = &textFault{problem: p}
		}
	case protoreflect.MessageKind:
		f = wireMessage(val, vd.Message(), depth+1)
	}
	if f != nil {
		f.in(seg)
	}
	return f
}

// textFault is a bad string found by wireMessage: its path segments,
// innermost first, and the problem.
type textFault struct {
	segs    []string
	problem string
}

func (f *textFault) path() string {
	var b strings.Builder
	for i := len(f.segs) - 1; i >= 0; i-- {
		s := f.segs[i]
		if b.Len() > 0 && !strings.HasPrefix(s, "[") {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

func (f *textFault) in(seg string) *textFault {
	f.segs = append(f.segs, seg)
	return f
}
