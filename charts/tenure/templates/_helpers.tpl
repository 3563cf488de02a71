{{/*
Names, labels and the shared parts of every component's pod. A "component"
is a dict: root (the chart's top scope), name (profile, …, gateway), svc (its
values entry) and gateway (true for the gateway).
*/}}

{{- define "tenure.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The name of a component's resources: <fullname>-<component>. */}}
{{- define "tenure.componentName" -}}
{{- printf "%s-%s" (include "tenure.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every resource besides its selector labels. */}}
{{- define "tenure.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tenure
{{- end -}}

{{- define "tenure.labels" -}}
{{ include "tenure.commonLabels" . }}
app.kubernetes.io/name: {{ default .Chart.Name .Values.nameOverride }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Selector labels of one component (dict root, name). */}}
{{- define "tenure.selectorLabels" -}}
app.kubernetes.io/name: {{ default .root.Chart.Name .root.Values.nameOverride }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* Selector of every Tenure service pod (not the gateway, not etcd). */}}
{{- define "tenure.serviceTierLabels" -}}
app.kubernetes.io/name: {{ default .Chart.Name .Values.nameOverride }}
app.kubernetes.io/instance: {{ .Release.Name }}
tenure.dev/tier: service
{{- end -}}

{{- define "tenure.componentLabels" -}}
{{ include "tenure.commonLabels" .root }}
{{ include "tenure.selectorLabels" . }}
tenure.dev/tier: {{ ternary "gateway" "service" .gateway }}
{{- end -}}

{{- define "tenure.serviceAccountName" -}}
{{- if .root.Values.serviceAccount.create -}}
{{- include "tenure.componentName" . -}}
{{- else -}}
default
{{- end -}}
{{- end -}}

{{- define "tenure.image" -}}
{{- $img := .Values.image -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $img.repository $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $img.repository (default .Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{/* TENURE_<NAME>_ */}}
{{- define "tenure.envPrefix" -}}
{{- printf "TENURE_%s_" (upper .name) -}}
{{- end -}}

{{- define "tenure.etcdName" -}}
{{- printf "%s-etcd" (include "tenure.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The etcd client URLs, comma-separated. */}}
{{- define "tenure.etcdEndpoints" -}}
{{- $e := .Values.etcd -}}
{{- if and $e.embedded.enabled (gt (len $e.endpoints) 0) -}}
{{- fail "etcd: set either etcd.endpoints (an etcd cluster of your own) or etcd.embedded.enabled, not both" -}}
{{- end -}}
{{- if $e.embedded.enabled -}}
{{- $name := include "tenure.etcdName" . -}}
{{- $urls := list -}}
{{- range $i := until (int $e.embedded.replicas) -}}
{{- $urls = append $urls (printf "http://%s-%d.%s-headless.%s.svc:2379" $name $i $name $.Release.Namespace) -}}
{{- end -}}
{{- join "," $urls -}}
{{- else if $e.endpoints -}}
{{- join "," $e.endpoints -}}
{{- else -}}
{{- fail "etcd: set etcd.endpoints to your etcd cluster's client URLs, or enable etcd.embedded" -}}
{{- end -}}
{{- end -}}

{{- define "tenure.databaseSecretName" -}}
{{- default (printf "%s-database" (include "tenure.componentName" .)) .svc.database.secretName -}}
{{- end -}}

{{/* The seconds Kubernetes waits after SIGTERM: the preStop sleep, the
deregistration (at most 5 s), the drain and the telemetry flush (each up to
the shutdown timeout), and a margin. */}}
{{- define "tenure.terminationGracePeriodSeconds" -}}
{{- add .Values.preStopSleepSeconds 5 (mul 2 .Values.shutdownTimeoutSeconds) 5 -}}
{{- end -}}

{{/* The Secret with the API key file and the services' own key. */}}
{{- define "tenure.authSecretName" -}}
{{- default (printf "%s-auth" (include "tenure.fullname" .)) .Values.auth.keys.secretName -}}
{{- end -}}
