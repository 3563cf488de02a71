module github.com/tenurehq/tenure/services/segmentation

go 1.26.0

require cel.dev/cel-go v0.33.2

require (
	cel.dev/expr v0.25.1 // indirect
	github.com/antlr4-go/antlr/v4 v4.13.1 // indirect
	go.yaml.in/yaml/v3 v3.0.4 // indirect
	golang.org/x/exp v0.0.0-20240823005443-9b4947da3948 // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20240826202546-f6391c0de4c7 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20240826202546-f6391c0de4c7 // indirect
	google.golang.org/protobuf v1.36.10 // indirect
)

require (
	github.com/tenurehq/tenure/gen v0.0.0
	github.com/tenurehq/tenure/services/platform v0.0.0
	go.etcd.io/etcd/client/v3 v3.7.3
	go.uber.org/zap v1.27.1
	google.golang.org/grpc v1.85.0
)

replace github.com/tenurehq/tenure/services/platform => ../platform

replace github.com/tenurehq/tenure/gen => ../../gen

require (
	github.com/tenurehq/tenure/services/profile v0.0.0
	go.opentelemetry.io/otel v1.47.0
	go.opentelemetry.io/otel/metric v1.47.0
)

replace github.com/tenurehq/tenure/services/profile => ../profile
