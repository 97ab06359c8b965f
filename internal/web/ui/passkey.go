package ui

// passkeysOn tells whether passkeys are available: CONSOLE_PUBLIC_URL names
// the relying party.
func (s *Server) passkeysOn() bool { return false }
