module github.com/tenurehq/tenure/tools

go 1.26.0
