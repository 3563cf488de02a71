module github.com/tenurehq/tenure/services/gateway

go 1.26.0
