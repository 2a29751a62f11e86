package blob

// SetS3Parts makes an S3 bucket's parts smaller and fewer, so a test can reach the parts limit
// without streaming 78 GiB. It panics on a file bucket.
func SetS3Parts(b *Bucket, partSize, maxParts int64) {
	s := b.backend.(*s3Backend)
	s.partSize, s.maxParts = partSize, maxParts
}

// SetPuts replaces b's bound on the Puts in progress at once.
func SetPuts(b *Bucket, n int) {
	b.puts = make(chan struct{}, n)
}
