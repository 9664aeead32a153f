module k8s.io/kubernetes

go 1.19

require (
	example.com/dep v1.2.3
	k8s.io/component-base v0.0.0
)

replace k8s.io/component-base => ./staging/src/k8s.io/component-base

replace example.com/dep v1.2.3 => ./third_party/dep
