module github.com/tenurehq/tenure/services/profile

go 1.26.0
