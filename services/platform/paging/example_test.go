package paging_test

import (
	"fmt"
	"slices"

	"github.com/tenurehq/tenure/services/platform/paging"
)

// A List method reads one item more than the page size, so that Cut knows
// whether there is a next page, and binds its tokens to its filters.
func Example() {
	colours := []string{"blue", "green", "red", "teal", "violet"}
	list := func(pageSize int, pageToken string) ([]string, string, error) {
		p, err := paging.Parse(paging.Sizes{Default: 2, Max: 100}, pageSize, pageToken,
			paging.For("ListColours").With("filter", "all"))
		if err != nil {
			return nil, "", err
		}
		i, _ := slices.BinarySearch(colours, p.After)
		if p.After != "" {
			i++ // the page starts after the position
		}
		items := colours[i:min(len(colours), i+p.Limit())]
		page, next := paging.Cut(p, items, func(s string) string { return s })
		return page, next, nil
	}
	token := ""
	for {
		page, next, err := list(0, token)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(page)
		if next == "" {
			break
		}
		token = next
	}
	_, _, err := list(-1, "")
	fmt.Println(err)
	// Output:
	// [blue green]
	// [red teal]
	// [violet]
	// page_size must not be negative, got -1; omit it or send 0 for the default of 2, or a number up to 100
}
