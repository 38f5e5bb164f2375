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
