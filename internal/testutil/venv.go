package testutil

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Venv returns the Python of a virtual environment Home()/name holding the
// packages of the requirements file req, creating it on first use and
// reinstalling when req's content differs from what the venv was built
// with (a stamp file inside it). A venv left without pip by an interrupted
// creation gets pip back. Without python3, its venv module or pip the test
// is skipped, or fails under CI=true: `make test` needs them.
func Venv(t testing.TB, name, req string) string {
	t.Helper()
	venv := filepath.Join(Home(), name)
	py := filepath.Join(venv, "bin", "python")
	reqPath, err := filepath.Abs(req)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(reqPath)
	if err != nil {
		t.Fatal(err)
	}
	stamp := filepath.Join(venv, "quarry-requirements.txt")
	if have, err := os.ReadFile(stamp); err == nil && bytes.Equal(have, want) {
		return py
	}
	if _, err := exec.LookPath("python3"); err != nil {
		skip(t, "python3 is not installed (the test drives a Python package in a venv)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if _, err := os.Stat(py); err != nil {
		if out, err := exec.CommandContext(ctx, "python3", "-m", "venv", venv).CombinedOutput(); err != nil {
			skip(t, "python3 -m venv failed (is python3-venv installed?): "+err.Error()+"\n"+string(out))
		}
	}
	if err := exec.CommandContext(ctx, py, "-m", "pip", "--version").Run(); err != nil {
		if out, err := exec.CommandContext(ctx, py, "-m", "ensurepip", "--upgrade").CombinedOutput(); err != nil {
			skip(t, "the venv "+venv+" has no pip and ensurepip failed: "+err.Error()+"\n"+string(out))
		}
	}
	t.Logf("installing %s into %s", bytes.TrimSpace(want), venv)
	if out, err := exec.CommandContext(ctx, py, "-m", "pip", "install", "-q", "-r", reqPath).CombinedOutput(); err != nil {
		skip(t, "pip install -r "+req+" failed: "+err.Error()+"\n"+string(out))
	}
	if err := os.WriteFile(stamp, want, 0o644); err != nil {
		t.Fatal(err)
	}
	return py
}
