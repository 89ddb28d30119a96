package cmd

import "github.com/spf13/cobra"

func newBenchCommand(streams IO) *cobra.Command {
	return &cobra.Command{
		Use:   "bench FILE...",
		Short: "replay captures through the pipeline and report packets per second",
		RunE: func(c *cobra.Command, args []string) error {
			return usageErrorf("bench: not built yet")
		},
	}
}
