package blob_test

import (
	"testing"

	"github.com/decagon/decagon/internal/blob/blobtest"
)

func TestConformanceFile(t *testing.T) {
	t.Parallel()
	blobtest.Run(t, blobtest.NewFile)
}

func TestConformanceS3(t *testing.T) {
	t.Parallel()
	blobtest.Run(t, blobtest.NewS3)
}
