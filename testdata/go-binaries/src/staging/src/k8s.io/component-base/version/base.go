package version

var (
	gitMajor     string
	gitMinor     string
	gitVersion   = "v0.0.0-master+$Format:%H$"
	gitCommit    = "$Format:%H$"
	gitTreeState = ""
	buildDate    = "1970-01-01T00:00:00Z"
)

// Get returns the stamped values.
func Get() []string {
	return []string{gitMajor, gitMinor, gitVersion, gitCommit, gitTreeState, buildDate}
}
