package api

import (
	"strings"
	"testing"
)

func TestLoadValidates(t *testing.T) {
	if _, err := Load(); err != nil {
		t.Fatal(err)
	}
}

func TestOperationsSecurity(t *testing.T) {
	ops, err := Operations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) == 0 {
		t.Fatal("no operations")
	}
	for _, o := range ops {
		if o.ID == "" {
			t.Errorf("%s has no operationId", o.Pattern())
		}
		if public := o.Path == "/health-check" || strings.HasPrefix(o.Path, "/upload/_blob/"); o.Public != public {
			t.Errorf("%s: public = %v, want %v", o.Pattern(), o.Public, public)
		}
	}
}
