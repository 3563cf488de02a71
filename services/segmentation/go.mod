module github.com/tenurehq/tenure/services/segmentation

go 1.26.0
