package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"
)

// mcpBinary is the MCP server's own binary: the SDK stays out of the oxygen
// that git runs on every commit.
const mcpBinary = "oxygen-mcp"

func (a *app) mcpCommand() *cobra.Command {
	var repo string
	c := &cobra.Command{
		Use:   "mcp",
		Short: "Serve the Model Context Protocol over stdio: oxygen's commands as tools for agents",
		Long: `Serve the Model Context Protocol over stdin and stdout. The tools are
status, explain, claim (with wait), renew, release, signal, ack, check and
events; each takes the command's flags as its input and answers with the
command's --json output, or its JSON error (and isError) when it refuses or
fails. The identity is the server's environment's (GIT_COMMITTER_EMAIL,
then git's user.email); the repository is --repo, or the working directory.

The server is its own binary, oxygen-mcp, which install.sh builds beside
oxygen: the MCP SDK stays out of the oxygen that git runs on every commit.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			bin, err := findMCP()
			if err != nil {
				return err
			}
			argv := []string{bin}
			if repo != "" {
				argv = append(argv, "--repo", repo)
			}
			return syscall.Exec(bin, argv, os.Environ())
		},
	}
	c.Flags().StringVar(&repo, "repo", "", "the clone to serve (default: the working directory)")
	return c
}

// findMCP finds oxygen-mcp beside this binary (install.sh puts them
// together), else on PATH.
func findMCP() (string, error) {
	if self, err := os.Executable(); err == nil {
		if bin := filepath.Join(filepath.Dir(self), mcpBinary); isExecutable(bin) {
			return bin, nil
		}
	}
	bin, err := exec.LookPath(mcpBinary)
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, exec.ErrDot) {
		return "", fmt.Errorf("oxygen mcp serves through the %s binary, which is neither beside oxygen nor on PATH: ./install.sh builds both", mcpBinary)
	}
	return bin, err
}

func isExecutable(file string) bool {
	fi, err := os.Stat(file)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
