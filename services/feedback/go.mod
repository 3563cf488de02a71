module github.com/tenurehq/tenure/services/feedback

go 1.26.0

require github.com/tenurehq/tenure/services/platform v0.0.0

replace github.com/tenurehq/tenure/services/platform => ../platform

replace github.com/tenurehq/tenure/gen => ../../gen

require (
	cel.dev/cel-go v0.33.2
	golang.org/x/text v0.43.0
)

require (
	cel.dev/expr v0.25.1 // indirect
	github.com/antlr4-go/antlr/v4 v4.13.1 // indirect
	go.yaml.in/yaml/v3 v3.0.4 // indirect
	golang.org/x/exp v0.0.0-20240823005443-9b4947da3948 // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20261019180522-ce908d29299b // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261012220534-4341edf3f941 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)
