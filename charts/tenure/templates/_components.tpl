{{/*
tenure.components: every enabled component as a list of dicts (root, name,
svc, gateway), the services in name order and then the gateway. Each
resource template ranges over it.
*/}}
{{- define "tenure.components" -}}
{{- $out := list -}}
{{- range $name, $svc := .Values.services -}}
{{- if $svc.enabled -}}
{{- if eq $name "gateway" -}}
{{- fail "services: \"gateway\" is configured under gateway:, not services:" -}}
{{- end -}}
{{- $out = append $out (dict "name" $name "gateway" false) -}}
{{- end -}}
{{- end -}}
{{- if .Values.gateway.enabled -}}
{{- $out = append $out (dict "name" "gateway" "gateway" true) -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

