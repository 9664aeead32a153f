//! The Kubernetes CVE feed: build, parse affected versions, CVSS, OSV.
