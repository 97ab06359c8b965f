package main

import (
	"fmt"

	"github.com/zegocloud-console/console/internal/web"
)

// cliMay asks web.Can, the one decider of every channel, whether the
// command line may do act. It may do everything: whoever runs it holds the
// database credentials, and its changes are audited as actor "cli".
func cliMay(act web.Action) error {
	if !web.Can(web.CLI, act, 0) {
		return &exitError{code: 2, err: fmt.Errorf("the command line may not do %s", act)}
	}
	return nil
}
