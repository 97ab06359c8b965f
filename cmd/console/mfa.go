package main

import (
	"errors"
	"fmt"

	"github.com/zegocloud-console/console/internal/web"
)

// validateMFA rejects second-factor and passkey settings that cannot work,
// saying how to fix them.
func (c config) validateMFA() error {
	var errs []error
	if !web.ValidMFAPolicy(c.MFA) {
		errs = append(errs, fmt.Errorf("CONSOLE_MFA=%q: want optional, admins or all", c.MFA))
	}
	if c.StepUpAge > c.SessionMax {
		errs = append(errs, errors.New("CONSOLE_STEPUP_AGE is longer than CONSOLE_SESSION_MAX: a session would never be asked again"))
	}
	if c.PublicURL != "" {
		if _, err := web.ParsePublicURL(c.PublicURL); err != nil {
			errs = append(errs, fmt.Errorf("CONSOLE_PUBLIC_URL=%q: %w", c.PublicURL, err))
		}
	}
	return errors.Join(errs...)
}
