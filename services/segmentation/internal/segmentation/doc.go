// Package segmentation is the domain of the segmentation service.
//
// It holds the pure rules, tested without I/O: RFM values and scores
// (Score), RFM segments, value tiers and lifecycle stages, the settings
// that parameterise them, audience names and the planning of event-log
// mutations. Over them it holds the use cases (Service: settings, rule and
// static segments, operations, size history), the small storage interfaces
// per aggregate that the store implements and each consumer picks from
// (InputStore, SettingsStore, SegmentStore, OperationStore, ResultStore),
// and the sentinel errors ("segmentation: …").
//
// It knows nothing about protobuf or SQL and imports only the standard
// library and the platform's standard-library-only fielderr and paging.
package segmentation
