package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"

	"github.com/zegocloud-console/console/internal/store"
)

// validateSSO rejects single sign-on and local sign-in settings that cannot
// work, saying how to fix them.
func (c config) validateSSO() error {
	var errs []error
	if !store.ValidLocalLogin(c.LocalLogin) {
		errs = append(errs, fmt.Errorf("CONSOLE_LOCAL_LOGIN=%q: want all, admins or none", c.LocalLogin))
	}
	o := c.OIDC
	if o.Issuer == "" {
		if c.LocalLogin == store.LocalLoginNone {
			errs = append(errs, errors.New("CONSOLE_LOCAL_LOGIN=none without CONSOLE_OIDC_ISSUER: nobody could sign in; configure single sign-on or allow local sign-in"))
		}
		if o.ClientID != "" || o.ClientSecret != "" || c.OIDCRulesFile != "" {
			errs = append(errs, errors.New("CONSOLE_OIDC_CLIENT_ID, _CLIENT_SECRET or _RULES_FILE is set without CONSOLE_OIDC_ISSUER: set the issuer URL of your identity provider too"))
		}
		return errors.Join(errs...)
	}
	if u, err := url.Parse(o.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("CONSOLE_OIDC_ISSUER=%q: want the provider's issuer URL, such as https://keycloak.example.com/realms/acme", o.Issuer))
	}
	if o.ClientID == "" {
		errs = append(errs, errors.New("CONSOLE_OIDC_CLIENT_ID is not set: register the console as a confidential client at the provider and give its client id"))
	}
	if o.ClientSecret == "" {
		errs = append(errs, errors.New("CONSOLE_OIDC_CLIENT_SECRET (or _FILE) is not set: give the client secret the provider made for the console"))
	}
	if o.RedirectURL != "" {
		if u, err := url.Parse(o.RedirectURL); err != nil || !u.IsAbs() || u.Path != "/auth/oidc/callback" {
			errs = append(errs, fmt.Errorf("CONSOLE_OIDC_REDIRECT_URL=%q: want the console's public address ending in /auth/oidc/callback", o.RedirectURL))
		}
	}
	if c.OIDCRulesFile != "" {
		if _, err := c.oidcRules(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// oidcRules reads the mapping rules of CONSOLE_OIDC_RULES_FILE.
func (c config) oidcRules() ([]store.MappingRule, error) {
	b, err := os.ReadFile(c.OIDCRulesFile)
	if err != nil {
		return nil, fmt.Errorf("CONSOLE_OIDC_RULES_FILE: %w", err)
	}
	rules, err := store.ParseMappingRules(b)
	if err != nil {
		return nil, fmt.Errorf("CONSOLE_OIDC_RULES_FILE %s: %w", c.OIDCRulesFile, err)
	}
	return rules, nil
}

// seedOIDCRules loads CONSOLE_OIDC_RULES_FILE as the initial mapping rules
// when none were ever set; rules set since (in the UI) are left alone.
func seedOIDCRules(ctx context.Context, st *store.Store, c config, logger *slog.Logger) error {
	if c.OIDCRulesFile == "" {
		return nil
	}
	rules, err := c.oidcRules()
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("configuration: %w", err)}
	}
	seeded, err := st.SeedMappingRules(ctx, rules, c.OIDCRulesFile)
	if err != nil {
		return err
	}
	if seeded {
		logger.Info("sso: mapping rules loaded", "file", c.OIDCRulesFile, "rules", len(rules))
	} else {
		logger.Info("sso: mapping rules already set in the console; CONSOLE_OIDC_RULES_FILE is not loaded again", "file", c.OIDCRulesFile)
	}
	return nil
}
