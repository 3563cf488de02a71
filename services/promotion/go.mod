module github.com/tenurehq/tenure/services/promotion

go 1.26.0

require (
	github.com/emersion/go-sasl v0.0.0-20241020182733-b788ff22d5a6
	github.com/emersion/go-smtp v0.25.1
	github.com/tenurehq/tenure/services/platform v0.0.0
	github.com/wneessen/go-mail v0.8.1
)

require (
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace (
	github.com/tenurehq/tenure/gen => ../../gen
	github.com/tenurehq/tenure/services/loyalty => ../loyalty
	github.com/tenurehq/tenure/services/platform => ../platform
	github.com/tenurehq/tenure/services/profile => ../profile
	github.com/tenurehq/tenure/services/segmentation => ../segmentation
)
