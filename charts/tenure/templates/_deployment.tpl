{{/*
The Deployment of one component (see _helpers.tpl). Services speak gRPC
and are probed on grpc.health.v1; the gateway speaks HTTP and is probed on
/healthz and /readyz.
*/}}
{{- define "tenure.deployment" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $svc := .svc -}}
{{- $prefix := include "tenure.envPrefix" . -}}
{{- $portName := ternary "http" "grpc" .gateway -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "tenure.componentName" . }}
  labels:
    {{- include "tenure.componentLabels" . | nindent 4 }}
spec:
  {{- if not $svc.autoscaling.enabled }}
  replicas: {{ $svc.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "tenure.selectorLabels" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  template:
    metadata:
      labels:
        {{- include "tenure.componentLabels" . | nindent 8 }}
        {{- with (merge (dict) ($svc.podLabels | default dict) $v.podLabels) }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- $annotations := merge (dict) ($svc.podAnnotations | default dict) $v.podAnnotations }}
      {{- if and (not .gateway) $svc.database.dsn }}
      {{- /* A DSN the chart holds rolls the pods when it changes. */}}
      {{- $_ := set $annotations "checksum/database" ($svc.database.dsn | sha256sum) }}
      {{- end }}
      {{- with $annotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      serviceAccountName: {{ include "tenure.serviceAccountName" . }}
      automountServiceAccountToken: {{ $v.serviceAccount.automountToken }}
      terminationGracePeriodSeconds: {{ include "tenure.terminationGracePeriodSeconds" $root }}
      securityContext:
        {{- toYaml $v.podSecurityContext | nindent 8 }}
      {{- with $v.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with ($svc.priorityClassName | default $v.priorityClassName) }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- with ($svc.nodeSelector | default $v.nodeSelector) }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with ($svc.tolerations | default $v.tolerations) }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with ($svc.affinity | default $v.affinity) }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with ($svc.topologySpreadConstraints | default $v.topologySpreadConstraints) }}
      topologySpreadConstraints:
        {{- range . }}
        - {{ toYaml (merge (dict "labelSelector" (dict "matchLabels" (include "tenure.selectorLabels" $ | fromYaml))) .) | nindent 10 | trim }}
        {{- end }}
      {{- end }}
      containers:
        - name: {{ .name }}
          image: {{ include "tenure.image" $root }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          command: [{{ printf "/usr/local/bin/%s" (default .name $svc.binary) | quote }}]
          ports:
            - name: {{ $portName }}
              containerPort: {{ $svc.port }}
              protocol: TCP
            {{- if $v.metrics.enabled }}
            - name: admin
              containerPort: {{ $v.metrics.port }}
              protocol: TCP
            {{- end }}
          env:
            - name: POD_IP
              valueFrom:
                fieldRef:
                  fieldPath: status.podIP
            - name: POD_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            - name: {{ $prefix }}LISTEN
              value: {{ printf ":%v" $svc.port | quote }}
            {{- if not .gateway }}
            - name: {{ $prefix }}ADVERTISE
              value: {{ printf "$(POD_IP):%v" $svc.port | quote }}
            - name: {{ $prefix }}DSN
              valueFrom:
                secretKeyRef:
                  name: {{ include "tenure.databaseSecretName" . }}
                  key: {{ $svc.database.secretKey }}
            {{- end }}
            - name: {{ $prefix }}ETCD_ENDPOINTS
              value: {{ include "tenure.etcdEndpoints" $root | quote }}
            {{- if $v.etcd.tls.enabled }}
            - name: {{ $prefix }}ETCD_CA_FILE
              value: /etc/tenure/etcd-tls/{{ $v.etcd.tls.caKey }}
            {{- if $v.etcd.tls.certKey }}
            - name: {{ $prefix }}ETCD_CERT_FILE
              value: /etc/tenure/etcd-tls/{{ $v.etcd.tls.certKey }}
            - name: {{ $prefix }}ETCD_KEY_FILE
              value: /etc/tenure/etcd-tls/{{ $v.etcd.tls.keyKey }}
            {{- end }}
            {{- end }}
            - name: {{ $prefix }}AUTH_KEYS_FILE
              value: /etc/tenure/auth/{{ $v.auth.keys.keysFileKey }}
            - name: {{ $prefix }}AUTH_RELOAD_INTERVAL
              value: {{ $v.auth.keys.reloadInterval | quote }}
            - name: {{ $prefix }}SERVICE_KEY_FILE
              value: /etc/tenure/auth/{{ $v.auth.keys.serviceKeyKey }}
            {{- with $v.auth.jwt.jwksUrl }}
            - name: {{ $prefix }}AUTH_JWKS_URL
              value: {{ . | quote }}
            - name: {{ $prefix }}AUTH_ISSUER
              value: {{ required "auth.jwt.issuer is required with auth.jwt.jwksUrl" $v.auth.jwt.issuer | quote }}
            - name: {{ $prefix }}AUTH_AUDIENCE
              value: {{ required "auth.jwt.audience is required with auth.jwt.jwksUrl" $v.auth.jwt.audience | quote }}
            - name: {{ $prefix }}AUTH_ROLES_CLAIM
              value: {{ $v.auth.jwt.rolesClaim | quote }}
            - name: {{ $prefix }}AUTH_LEEWAY
              value: {{ $v.auth.jwt.leeway | quote }}
            {{- end }}
            {{- if .gateway }}
            - name: {{ $prefix }}RATE_LIMITS
              value: {{ $v.auth.rateLimits | quote }}
            {{- with $v.auth.corsOrigins }}
            - name: {{ $prefix }}CORS_ORIGINS
              value: {{ join "," . | quote }}
            {{- end }}
            {{- end }}
            - name: {{ $prefix }}LOG_LEVEL
              value: {{ $v.logLevel | quote }}
            - name: {{ $prefix }}SHUTDOWN_TIMEOUT
              value: {{ printf "%vs" $v.shutdownTimeoutSeconds | quote }}
            {{- if $v.metrics.enabled }}
            - name: {{ $prefix }}ADMIN_LISTEN
              value: {{ printf ":%v" $v.metrics.port | quote }}
            {{- end }}
            {{- if $v.otel.endpoint }}
            - name: OTEL_EXPORTER_OTLP_ENDPOINT
              value: {{ $v.otel.endpoint | quote }}
            - name: OTEL_RESOURCE_ATTRIBUTES
              value: {{ printf "k8s.namespace.name=%s,k8s.pod.name=$(POD_NAME)" $root.Release.Namespace }}{{ with $v.otel.resourceAttributes }},{{ . }}{{ end }}
            {{- end }}
            {{- range $k, $val := $svc.config }}
            - name: {{ $prefix }}{{ $k }}
              value: {{ $val | toString | quote }}
            {{- end }}
            {{- with $v.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
            {{- with $svc.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- if .gateway }}
          startupProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 2
            failureThreshold: 30
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 10
            timeoutSeconds: 2
            failureThreshold: 3
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: 5
            timeoutSeconds: 2
            failureThreshold: 2
          {{- else }}
          {{- /* Startup covers the migrations at start. Liveness asks the
          overall status; readiness the service's own, which stays SERVING
          through an etcd outage (tenure.discovery would not: every replica
          would leave its Service at once). Both turn NOT_SERVING at
          shutdown. */}}
          startupProbe:
            grpc:
              port: {{ $svc.port }}
            periodSeconds: 2
            failureThreshold: 90
          livenessProbe:
            grpc:
              port: {{ $svc.port }}
            periodSeconds: 10
            timeoutSeconds: 2
            failureThreshold: 3
          readinessProbe:
            grpc:
              port: {{ $svc.port }}
              service: {{ .name }}
            periodSeconds: 5
            timeoutSeconds: 2
            failureThreshold: 2
          {{- end }}
          lifecycle:
            preStop:
              sleep:
                seconds: {{ $v.preStopSleepSeconds }}
          resources:
            {{- toYaml $svc.resources | nindent 12 }}
          securityContext:
            {{- toYaml $v.securityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- /* The whole directory, not a subPath: Secret updates reach it. */}}
            - name: auth
              mountPath: /etc/tenure/auth
              readOnly: true
            {{- if $v.etcd.tls.enabled }}
            - name: etcd-tls
              mountPath: /etc/tenure/etcd-tls
              readOnly: true
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        - name: auth
          secret:
            secretName: {{ include "tenure.authSecretName" $root }}
            defaultMode: 0440
            items:
              - key: {{ $v.auth.keys.keysFileKey }}
                path: {{ $v.auth.keys.keysFileKey }}
              - key: {{ $v.auth.keys.serviceKeyKey }}
                path: {{ $v.auth.keys.serviceKeyKey }}
        {{- if $v.etcd.tls.enabled }}
        - name: etcd-tls
          secret:
            secretName: {{ required "etcd.tls.secretName is required when etcd.tls.enabled" $v.etcd.tls.secretName }}
            defaultMode: 0440
        {{- end }}
{{- end -}}
