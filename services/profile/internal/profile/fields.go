package profile

import (
	"slices"
	"strings"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// CustomerField names an updatable field of a customer, as an update mask
// path in snake_case.
type CustomerField string

// Updatable customer fields.
const (
	FieldFullName            CustomerField = "full_name"
	FieldEmail               CustomerField = "email"
	FieldPhone               CustomerField = "phone"
	FieldBirthday            CustomerField = "birthday"
	FieldTimeZone            CustomerField = "time_zone"
	FieldCountry             CustomerField = "country"
	FieldRegistrationTime    CustomerField = "registration_time"
	FieldRegistrationChannel CustomerField = "registration_channel"
	FieldConsentEmail        CustomerField = "consent.email"
	FieldConsentSMS          CustomerField = "consent.sms"
	FieldConsentPush         CustomerField = "consent.push"
	FieldTags                CustomerField = "tags"
)

// updatableFields are the fields "*" replaces.
var updatableFields = []CustomerField{
	FieldFullName, FieldEmail, FieldPhone, FieldBirthday, FieldTimeZone, FieldCountry,
	FieldRegistrationTime, FieldRegistrationChannel,
	FieldConsentEmail, FieldConsentSMS, FieldConsentPush, FieldTags,
}

// ignoredFields are skipped in a mask: the output-only fields (features.*
// included), and name and etag, which identify the customer and its version
// rather than change it. Per AIP-203 output-only paths are ignored, not
// rejected, so that a client can PATCH back the whole object it read (the
// JSON gateway derives a mask from every field in the body).
var ignoredFields = []string{"name", "etag", "customer_id", "features", "state", "create_time", "update_time"}

// ParseUpdateMask turns update mask paths into fields: "*" is every
// updatable field, "consent" all three consent channels; output-only paths,
// name and etag are skipped. Unknown paths fail with an InvalidArgument
// error for update_mask naming the path, and so does a mask that names no
// updatable field.
func ParseUpdateMask(paths []string) ([]CustomerField, error) {
	if len(paths) == 0 {
		return nil, InvalidArgument("update_mask", "name at least one field")
	}
	var out []CustomerField
	for _, p := range paths {
		switch {
		case p == "*":
			if len(paths) != 1 {
				return nil, InvalidArgument("update_mask", `"*" must be the only path`)
			}
			return slices.Clone(updatableFields), nil
		case slices.Contains(ignoredFields, p) || strings.HasPrefix(p, "features."):
		case p == "consent":
			out = append(out, FieldConsentEmail, FieldConsentSMS, FieldConsentPush)
		case slices.Contains(updatableFields, CustomerField(p)):
			out = append(out, CustomerField(p))
		default:
			return nil, InvalidArgument("update_mask", "unknown path %s", fielderr.Quote(p))
		}
	}
	if len(out) == 0 {
		return nil, InvalidArgument("update_mask", "name at least one updatable field")
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// applyFields copies the named fields from src to dst.
func applyFields(dst *Customer, src Customer, fields []CustomerField) {
	for _, f := range fields {
		switch f {
		case FieldFullName:
			dst.FullName = src.FullName
		case FieldEmail:
			dst.Email = src.Email
		case FieldPhone:
			dst.Phone = src.Phone
		case FieldBirthday:
			dst.Birthday = src.Birthday
		case FieldTimeZone:
			dst.TimeZone = src.TimeZone
		case FieldCountry:
			dst.Country = src.Country
		case FieldRegistrationTime:
			dst.RegistrationTime = src.RegistrationTime
		case FieldRegistrationChannel:
			dst.RegistrationChannel = src.RegistrationChannel
		case FieldConsentEmail:
			dst.Consent.Email = src.Consent.Email
		case FieldConsentSMS:
			dst.Consent.SMS = src.Consent.SMS
		case FieldConsentPush:
			dst.Consent.Push = src.Consent.Push
		case FieldTags:
			dst.Tags = slices.Clone(src.Tags)
		}
	}
}
