package chaos

// RegisterForTest registers k for one test; the returned func unregisters it.
func RegisterForTest(k Kind) (unregister func()) {
	Register(k)
	return func() {
		registry.Lock()
		delete(registry.kinds, k.Name())
		registry.Unlock()
	}
}

// ProxyName is the name a Chaos of this process gives a link's proxy.
func ProxyName(runID, link string) string {
	return "collide-" + runID + "-" + link + Self().suffix()
}
