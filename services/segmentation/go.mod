module github.com/tenurehq/tenure/services/segmentation

go 1.26.0

require cel.dev/cel-go v0.33.2

require (
	cel.dev/expr v0.25.3 // indirect
	github.com/antlr4-go/antlr/v4 v4.13.1 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/exp v0.0.0-20261014143641-f0251eb4aa3e // indirect
	gonum.org/v1/gonum v0.17.0
	google.golang.org/genproto/googleapis/api v0.0.0-20261019180522-ce908d29299b // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261012220534-4341edf3f941 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
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
