package app_test

import (
	"context"
	"testing"

	segmentationv1 "github.com/tenurehq/tenure/gen/tenure/segmentation/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
)

// wantPageError checks a paging error as a caller sees it: code, ErrorInfo
// reason, the BadRequest field and the message.
func wantPageError(t *testing.T, err error, code codes.Code, reason, field, msg string) {
	t.Helper()
	st := wantStatus(t, err, code, reason)
	var got string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
			got = br.GetFieldViolations()[0].GetField()
		}
	}
	if got != field {
		t.Errorf("BadRequest field = %q, want %q (%v)", got, field, err)
	}
	if st.Message() != msg {
		t.Errorf("message = %q, want %q", st.Message(), msg)
	}
}

// checkMembersPaging runs against the recomputed data of TestAPI, through
// the real server: a ListMembers token works for the audience that returned
// it and is rejected, naming page_token, for any other.
func checkMembersPaging(t *testing.T, c segmentationv1.SegmentationServiceClient) {
	t.Helper()
	ctx := context.Background()
	first, err := c.ListMembers(ctx, &segmentationv1.ListMembersRequest{Parent: "tiers/at_risk", PageSize: 1})
	if err != nil || first.GetNextPageToken() == "" {
		t.Fatalf("ListMembers(tiers/at_risk, page size 1) = %v, %v; want a next page", first, err)
	}
	again, err := c.ListMembers(ctx, &segmentationv1.ListMembersRequest{Parent: "tiers/at_risk", PageToken: first.GetNextPageToken()})
	if err != nil || len(again.GetCustomerIds()) == 0 {
		t.Fatalf("second page of tiers/at_risk = %v, %v", again, err)
	}
	_, err = c.ListMembers(ctx, &segmentationv1.ListMembersRequest{Parent: "segments/picked", PageToken: first.GetNextPageToken()})
	wantPageError(t, err, codes.InvalidArgument, "INVALID_PAGE_TOKEN", "page_token",
		"segmentation: invalid page token: page_token does not match the request's filters; send the parent of the request that returned it")
	_, err = c.ListOperations(ctx, &segmentationv1.ListOperationsRequest{PageToken: first.GetNextPageToken()})
	wantStatus(t, err, codes.InvalidArgument, "INVALID_PAGE_TOKEN")
	_, err = c.ListMembers(ctx, &segmentationv1.ListMembersRequest{Parent: "tiers/at_risk", PageSize: -5})
	wantPageError(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "page_size",
		"page_size: must not be negative, got -5; omit it or send 0 for the default of 100, or a number up to 1000")
	_, err = c.ListSizeHistory(ctx, &segmentationv1.ListSizeHistoryRequest{Limit: -1})
	wantPageError(t, err, codes.InvalidArgument, "INVALID_ARGUMENT", "limit",
		"limit: must not be negative, got -1; omit it or send 0 for the default of 50, or a number up to 500")
}
