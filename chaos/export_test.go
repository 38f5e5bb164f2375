package chaos

// ProxyName is the name a Chaos of this process gives a link's proxy.
func ProxyName(runID, link string) string {
	return "collide-" + runID + "-" + link + Self().suffix()
}
