package web

import "slices"

// withDefaults fills what CONSOLE_OIDC_* leave out: the scopes
// "openid profile email", the groups claim "groups" and the button name
// "single sign-on".
func (c OIDCConfig) withDefaults() OIDCConfig {
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "profile", "email"}
	}
	if !slices.Contains(c.Scopes, "openid") {
		c.Scopes = append([]string{"openid"}, c.Scopes...)
	}
	if c.GroupsClaim == "" {
		c.GroupsClaim = "groups"
	}
	if c.Name == "" {
		c.Name = "single sign-on"
	}
	return c
}
