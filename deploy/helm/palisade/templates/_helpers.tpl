{{/*
Labels the chart adds to every object's metadata (after app.kubernetes.io/name, which each
object writes itself). Pod template labels and selectors stay as in deploy/: selectors are
immutable, so objects applied from deploy/ can be taken over by the chart.
*/}}
{{- define "palisade.labels" }}
    app.kubernetes.io/part-of: palisade
    app.kubernetes.io/instance: {{ .Release.Name }}
    app.kubernetes.io/managed-by: {{ .Release.Service }}
    helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{- define "palisade.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}
