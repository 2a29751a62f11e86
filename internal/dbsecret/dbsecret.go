// Package dbsecret reads the PostgreSQL password from AWS Secrets Manager: the secret RDS keeps
// for a managed master password, which it rotates. Source is a store.PasswordSource, so that
// the pool asks it for each new connection (store.WithPassword caches and refetches).
//
// It may import internal/store (for the source's type), the AWS SDK and the standard library.
// It is its own package because the SDK brings net/http, which the store packages may not
// depend on (arch_test.go).
package dbsecret

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/decagon/decagon/internal/store"
)

// secretTimeout bounds one read of the secret: a connection waits for it.
const secretTimeout = 10 * time.Second

// Source returns a store.PasswordSource that reads the password from the AWS Secrets Manager
// secret arn, in its current version: the JSON RDS keeps for a managed master password (see
// Parse). Credentials and region come from the environment as the AWS SDK finds them (in
// ECS, the task role); the region defaults to the ARN's. It reads nothing yet: the pool calls
// the source before its first connection, and again per postgres.PasswordTTL or refusal.
func Source(ctx context.Context, arn string) (store.PasswordSource, error) {
	if !strings.HasPrefix(arn, "arn:") {
		return nil, fmt.Errorf("database secret %q: want the secret's ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)", arn)
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("database secret: AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = arnRegion(arn)
	}
	client := secretsmanager.NewFromConfig(cfg)
	return func(ctx context.Context) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, secretTimeout)
		defer cancel()
		out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
		if err != nil {
			return "", fmt.Errorf("read database secret: %w", err)
		}
		if out.SecretString == nil {
			return "", errors.New("read database secret: it holds binary data, want RDS's JSON")
		}
		s, err := Parse(*out.SecretString)
		if err != nil {
			return "", fmt.Errorf("read database secret: %w", err)
		}
		return s.Password, nil
	}, nil
}

// Secret is the JSON of an RDS-managed database secret: {"username": "...", "password": "..."}
// (RDS's own secrets may hold more keys, such as engine and host; they are ignored).
type Secret struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Parse decodes an RDS database secret. Its errors never quote the secret: a JSON error
// can name a character of the password.
func Parse(raw string) (Secret, error) {
	var s Secret
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return Secret{}, errors.New("database secret: not a JSON object with username and password")
	}
	if s.Password == "" {
		return Secret{}, errors.New("database secret: no password")
	}
	return s, nil
}

// arnRegion is the region field of an ARN (arn:PARTITION:SERVICE:REGION:...), or "".
func arnRegion(arn string) string {
	parts := strings.SplitN(arn, ":", 5)
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}
