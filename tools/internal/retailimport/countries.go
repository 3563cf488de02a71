package retailimport

import "strings"

// countryCodes maps the Country names of the Online Retail files (both
// editions) to ISO 3166-1 alpha-2 codes, which is what the profile service
// stores. Names that are no single country ("Channel Islands", "European
// Community", "Unspecified", "West Indies") are absent: their customers'
// country stays empty. Keys are lower case.
var countryCodes = map[string]string{
	"australia": "AU", "austria": "AT", "bahrain": "BH", "belgium": "BE", "bermuda": "BM",
	"brazil": "BR", "canada": "CA", "cyprus": "CY", "czech republic": "CZ", "denmark": "DK",
	"eire": "IE", "ireland": "IE", "finland": "FI", "france": "FR", "germany": "DE",
	"greece": "GR", "hong kong": "HK", "iceland": "IS", "israel": "IL", "italy": "IT",
	"japan": "JP", "korea": "KR", "lebanon": "LB", "lithuania": "LT", "malta": "MT",
	"netherlands": "NL", "nigeria": "NG", "norway": "NO", "poland": "PL", "portugal": "PT",
	"rsa": "ZA", "south africa": "ZA", "saudi arabia": "SA", "singapore": "SG", "spain": "ES",
	"sweden": "SE", "switzerland": "CH", "thailand": "TH", "united arab emirates": "AE",
	"united kingdom": "GB", "usa": "US", "united states": "US",
}

// CountryCode returns the ISO 3166-1 alpha-2 code of a Country name of the
// data set ("United Kingdom" → "GB", "EIRE" → "IE"), and false for a name
// that names no single country or is not known.
func CountryCode(name string) (string, bool) {
	code, ok := countryCodes[strings.ToLower(strings.TrimSpace(name))]
	return code, ok
}

// CustomerCountries returns each customer's country code, from the Country
// of its latest invoice (a few customers appear under two countries), and
// how many customers have a latest Country that names no single country,
// by that name. Customers whose invoices have no Country are in neither.
func (ds *Dataset) CustomerCountries() (codes map[string]string, unknown map[string]int) {
	latest := make(map[string]string)
	for _, inv := range ds.Invoices { // in time order: the last one wins
		if inv.Country != "" {
			latest[inv.CustomerID] = inv.Country
		}
	}
	codes, unknown = make(map[string]string), make(map[string]int)
	for customer, name := range latest {
		if code, ok := CountryCode(name); ok {
			codes[customer] = code
		} else {
			unknown[name]++
		}
	}
	return codes, unknown
}
