//! Detection over Kubernetes API audit logs, compatible with Falco k8saudit rules.
