module github.com/tenurehq/tenure/services/promotion

go 1.26.0

require github.com/tenurehq/tenure/services/platform v0.0.0

replace github.com/tenurehq/tenure/services/platform => ../platform
