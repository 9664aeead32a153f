package dep

// Name is used so the module is linked.
func Name() string { return "dep" }
