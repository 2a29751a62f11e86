package main

// mutations are the regressions the suite must catch. Each names the test that should notice it
// (Run) so a run takes seconds, not the whole suite. Old is today's code, exactly: when the code
// moves, the mutation stops applying and the run fails until it is updated here.
var mutations = []mutation{
	// Access scoping: who may see whose items.
	{
		Name:     "listing/non-admin-owner",
		File:     "internal/web/listing.go",
		Old:      "\t\tcase admin:\n\t\t\tout.Owner = v[0]",
		New:      "\t\tcase admin, v[0] != subject:\n\t\t\tout.Owner = v[0]",
		Packages: []string{"./internal/web"},
		Run:      "^TestParseListing$",
	},
	{
		Name:     "service/route-scopes-dropped",
		File:     "internal/service/service.go",
		Old:      "cfg.Authenticate(auth.Requirement{Scopes: op.Scopes}, h)",
		New:      "cfg.Authenticate(auth.Requirement{}, h)",
		Packages: []string{"./internal/service"},
		Run:      "^TestNewPassesScopes$",
	},
	{
		Name:     "service/admin-by-any-group",
		File:     "internal/service/caller.go",
		Old:      "Admin: claims.InGroup(AdminGroup)",
		New:      "Admin: len(claims.Groups) > 0",
		Packages: []string{"./internal/service"},
		Run:      "^TestCallerAndScope$",
	},
	{
		Name:     "service/scope-every-owner",
		File:     "internal/service/caller.go",
		Old:      "\tif c.Admin {\n\t\treturn \"\"",
		New:      "\tif c.Admin || c.Subject != \"\" {\n\t\treturn \"\"",
		Packages: []string{"./internal/service"},
		Run:      "^TestCallerAndScope$",
	},

	// The load balancer: never an unhealthy target while a healthy one exists.
	{
		Name:     "balancer/pick-unhealthy",
		File:     "internal/balancer/balancer.go",
		Old:      "\tif best == nil {\n\t\tif open == nil {",
		New:      "\tif best == nil || (open != nil && openLoad < bestLoad) {\n\t\tif open == nil {",
		Packages: []string{"./internal/balancer"},
		Run:      "^TestPick$",
	},

	// Idempotency: a retry with other data is not a replay.
	{
		Name:     "records/idempotency-hash-name-only",
		File:     "internal/records/validate.go",
		Old:      "sha256.Sum256(append(append([]byte(name), 0), data...))",
		New:      "sha256.Sum256([]byte(name))",
		Packages: []string{"./internal/store/sqlite"},
		Run:      "^TestConformanceMemory$/^IdempotentOtherData$",
	},

	// The rules both SQL backends share.
	{
		Name:     "contract/idempotency-ttl-boundary",
		File:     "internal/store/internal/contract/contract.go",
		Old:      "return !keyCreated.After(now.Add(-IdempotencyTTL))",
		New:      "return keyCreated.Before(now.Add(-IdempotencyTTL))",
		Packages: []string{"./internal/store/internal/contract"},
		Run:      "^TestExpired$",
	},
	{
		Name:     "contract/nul-accepted",
		File:     "internal/store/internal/contract/contract.go",
		Old:      "if strings.IndexByte(s, 0) >= 0 {",
		New:      "if false {",
		Packages: []string{"./internal/store/internal/contract"},
		Run:      "^(TestRecord|TestIdempotency|TestListing)$",
	},

	// Owner isolation in every store: another owner's row is not found. "?2 = ?2" keeps the
	// parameter bound, so the statement still runs and only the filter is gone.
	{
		Name:     "sqlite/records-get-any-owner",
		File:     "internal/store/sqlite/tests.go",
		Old:      `" FROM tests WHERE test_id = ?1 AND (?2 = '' OR owner = ?2)"`,
		New:      `" FROM tests WHERE test_id = ?1 AND (?2 = ?2 OR owner = ?2)"`,
		Packages: []string{"./internal/store/sqlite"},
		Run:      "^TestConformanceMemory$/^Get$",
	},
	{
		Name:     "sqlite/records-delete-any-owner",
		File:     "internal/store/sqlite/tests.go",
		Old:      `"DELETE FROM tests WHERE test_id = ?1 AND (?2 = '' OR owner = ?2)"`,
		New:      `"DELETE FROM tests WHERE test_id = ?1 AND (?2 = ?2 OR owner = ?2)"`,
		Packages: []string{"./internal/store/sqlite"},
		Run:      "^TestConformanceMemory$/^Delete$",
	},
	{
		// listPage serves both resources: records' and uploads' listings must both notice.
		Name:     "sqlite/list-any-owner",
		File:     "internal/store/sqlite/list.go",
		Old:      "\tif l.owner != \"\" {\n\t\twhere = append(where, \"owner = ?\")",
		New:      "\tif false {\n\t\twhere = append(where, \"owner = ?\")",
		Packages: []string{"./internal/store/sqlite"},
		Run:      "^(TestConformanceMemory|TestUploadsConformanceMemory)$/^(ListOwners|List)$",
	},
	{
		Name:     "sqlite/uploads-get-any-owner",
		File:     "internal/store/sqlite/uploads.go",
		Old:      `" FROM uploads WHERE upload_id = ?1 AND (?2 = '' OR owner = ?2) AND "+live`,
		New:      `" FROM uploads WHERE upload_id = ?1 AND (?2 = ?2 OR owner = ?2) AND "+live`,
		Packages: []string{"./internal/store/sqlite"},
		Run:      "^TestUploadsConformanceMemory$/^OwnerScope$",
	},
	{
		Name:     "sqlite/uploads-delete-any-owner",
		File:     "internal/store/sqlite/uploads.go",
		Old:      `"DELETE FROM uploads WHERE upload_id = ?1 AND (?2 = '' OR owner = ?2) AND "`,
		New:      `"DELETE FROM uploads WHERE upload_id = ?1 AND (?2 = ?2 OR owner = ?2) AND "`,
		Packages: []string{"./internal/store/sqlite"},
		Run:      "^TestUploadsConformanceMemory$/^(OwnerScope|Delete)$",
	},
	{
		Name:     "postgres/records-get-any-owner",
		File:     "internal/store/postgres/tests.go",
		Old:      `" FROM tests WHERE test_id = $1 AND ($2 = '' OR owner = $2)"`,
		New:      `" FROM tests WHERE test_id = $1 AND ($2 = $2 OR owner = $2)"`,
		Packages: []string{"./internal/store/postgres"},
		Run:      "^TestConformance$/^Get$",
	},
	{
		Name:     "postgres/records-delete-any-owner",
		File:     "internal/store/postgres/tests.go",
		Old:      `"DELETE FROM tests WHERE test_id = $1 AND ($2 = '' OR owner = $2)"`,
		New:      `"DELETE FROM tests WHERE test_id = $1 AND ($2 = $2 OR owner = $2)"`,
		Packages: []string{"./internal/store/postgres"},
		Run:      "^TestConformance$/^Delete$",
	},
	{
		Name:     "postgres/list-any-owner",
		File:     "internal/store/postgres/list.go",
		Old:      "\tif l.owner != \"\" {\n\t\twhere = append(where, \"owner = \"+arg(l.owner))",
		New:      "\tif false {\n\t\twhere = append(where, \"owner = \"+arg(l.owner))",
		Packages: []string{"./internal/store/postgres"},
		Run:      "^(TestConformance|TestUploadsConformance)$/^(ListOwners|List)$",
	},
	{
		Name:     "postgres/uploads-get-any-owner",
		File:     "internal/store/postgres/uploads.go",
		Old:      `" FROM uploads WHERE upload_id = $1 AND ($2 = '' OR owner = $2) AND "+live`,
		New:      `" FROM uploads WHERE upload_id = $1 AND ($2 = $2 OR owner = $2) AND "+live`,
		Packages: []string{"./internal/store/postgres"},
		Run:      "^TestUploadsConformance$/^OwnerScope$",
	},
	{
		Name:     "postgres/uploads-delete-any-owner",
		File:     "internal/store/postgres/uploads.go",
		Old:      `"DELETE FROM uploads WHERE upload_id = $1 AND ($2 = '' OR owner = $2) AND "`,
		New:      `"DELETE FROM uploads WHERE upload_id = $1 AND ($2 = $2 OR owner = $2) AND "`,
		Packages: []string{"./internal/store/postgres"},
		Run:      "^TestUploadsConformance$/^(OwnerScope|Delete)$",
	},

	// Tokens: the service's verifier and the edge's authorizer.
	{
		Name:     "auth/aud-unchecked",
		File:     "internal/auth/claims.go",
		Old:      "if len(aud) != 1 || !slices.Contains(v.clientIDs, aud[0]) {",
		New:      "if len(aud) != 1 {",
		Packages: []string{"./internal/auth"},
		Run:      "^TestVerify$",
	},
	{
		Name:     "auth/client-id-unchecked",
		File:     "internal/auth/claims.go",
		Old:      "if !slices.Contains(v.clientIDs, c.ClientID) {",
		New:      "if c.ClientID == \"\" {",
		Packages: []string{"./internal/auth"},
		Run:      "^TestVerify$",
	},
	{
		Name:     "auth/exp-unchecked",
		File:     "internal/auth/claims.go",
		Old:      "if now.After(exp.Add(v.leeway)) {",
		New:      "if exp.IsZero() {",
		Packages: []string{"./internal/auth"},
		Run:      "^TestVerify$",
	},
	{
		Name:     "auth/cached-token-use-id",
		File:     "internal/auth/cache.go",
		Old:      "\t\tif c.TokenUse != \"id\" {",
		New:      "\t\tif c.TokenUse == \"\" {",
		Packages: []string{"./internal/edge", "./internal/auth"},
		Run:      "^(TestAuthorizerCacheKeepsTokenUse|TestCacheAppliesRequirementLikeVerifier)$",
	},
	{
		Name:     "auth/cached-token-use-access",
		File:     "internal/auth/cache.go",
		Old:      "\tif c.TokenUse != \"access\" {",
		New:      "\tif c.TokenUse == \"\" {",
		Packages: []string{"./internal/edge", "./internal/auth"},
		Run:      "^(TestAuthorizerCacheKeepsTokenUse|TestCacheAppliesRequirementLikeVerifier)$",
	},

	// Client addresses: the right-most untrusted X-Forwarded-For entry, never the left-most.
	{
		Name:     "edge/xff-left-most",
		File:     "internal/edge/forwarded.go",
		Old:      "\tdefault:\n\t\tclient = hops[i].addr.String()",
		New:      "\tdefault:\n\t\tclient = hops[0].addr.String()",
		Packages: []string{"./internal/edge"},
		Run:      "^TestClientIP$",
	},

	// Size limits of the uploads service.
	{
		Name:     "uploads/direct-size-unbounded",
		File:     "internal/uploads/uploadsapi/direct.go",
		Old:      "MaxSize: h.maxUpload(), IfNotExist: true",
		New:      "IfNotExist: true",
		Packages: []string{"./internal/uploads/uploadsapi"},
		Run:      "^TestMaxUploadCountsTheFile$",
	},
	{
		Name:     "uploads/presign-size-uncapped",
		File:     "internal/uploads/uploadsapi/presign.go",
		Old:      "case *in.Size > h.maxPresignedSize():",
		New:      "case false:",
		Packages: []string{"./internal/uploads/uploadsapi"},
		Run:      "^(TestPresignValidation|TestPresignSizeCap)$",
	},

	// Errors to clients: the right status, and a detail that never carries the chain.
	{
		Name:     "problem/not-found-is-200",
		File:     "internal/problem/problem.go",
		Old:      "decagon.ENotFound:            http.StatusNotFound,",
		New:      "decagon.ENotFound:            http.StatusOK,",
		Packages: []string{"./internal/problem"},
		Run:      "^TestFrom$",
	},
	{
		Name:     "problem/not-found-is-500",
		File:     "internal/problem/problem.go",
		Old:      "decagon.ENotFound:            http.StatusNotFound,",
		New:      "",
		Packages: []string{"./internal/problem"},
		Run:      "^TestFrom$",
	},
	{
		Name:     "problem/detail-leaks-chain",
		File:     "internal/problem/problem.go",
		Old:      "out := New(status, de.Message)",
		New:      "out := New(status, err.Error())",
		Packages: []string{"./internal/problem"},
		Run:      "^TestFrom$",
	},

	// A presigned upload's delete keeps a tombstone (UPDATE) instead of removing the row.
	{
		Name:     "sqlite/uploads-tombstone-any-owner",
		File:     "internal/store/sqlite/uploads.go",
		Old:      `"UPDATE uploads SET deleted_at = ?3 WHERE upload_id = ?1 AND (?2 = '' OR owner = ?2) AND "`,
		New:      `"UPDATE uploads SET deleted_at = ?3 WHERE upload_id = ?1 AND (?2 = ?2 OR owner = ?2) AND "`,
		Packages: []string{"./internal/store/sqlite"},
		Run:      "^TestUploadsConformanceMemory$/^OwnerScope$",
	},
	{
		Name:     "postgres/uploads-tombstone-any-owner",
		File:     "internal/store/postgres/uploads.go",
		Old:      `"UPDATE uploads SET deleted_at = now() WHERE upload_id = $1 AND ($2 = '' OR owner = $2) AND "`,
		New:      `"UPDATE uploads SET deleted_at = now() WHERE upload_id = $1 AND ($2 = $2 OR owner = $2) AND "`,
		Packages: []string{"./internal/store/postgres"},
		Run:      "^TestUploadsConformance$/^OwnerScope$",
	},

	// The WAF: it fails closed, and its anomaly threshold is decagon.yaml's.
	{
		Name:     "waf/fail-open",
		File:     "internal/waf/waf.go",
		Old:      "v = &verdict{terminatingRule: ruleInspectionError,",
		New:      "v = nil; _ = &verdict{terminatingRule: ruleInspectionError,",
		Packages: []string{"./internal/waf"},
		Run:      "^TestFailClosed$",
	},
	{
		Name:     "waf/anomaly-threshold-ignored",
		File:     "internal/waf/rules.go",
		Old:      "setvar:tx.inbound_anomaly_score_threshold=%d,\\",
		New:      "setvar:tx.inbound_anomaly_score_threshold=1000%d,\\",
		Packages: []string{"./internal/waf"},
		Run:      "^(TestBlockMode|TestAttackCorpus)$",
	},
	// Its false-positive guards: other scripts are not reduced to low bytes, every argument's
	// value (not only JSON's) is out of CRS's command-word rules, and base64-shaped values that
	// are not base64 text are not decoded and matched.
	{
		Name:     "waf/utf8tounicode-low-bytes",
		File:     "internal/waf/transformations.go",
		Old:      "\treturn r >= 0x80 && r <= 0x36f",
		New:      "\treturn r >= 0x80 || r <= 0x36f",
		Packages: []string{"./internal/waf"},
		Run:      "^TestNonLatinScripts$",
	},
	{
		Name:     "waf/values-json-only",
		File:     "internal/waf/rules.go",
		Old:      `"SecRuleUpdateTargetById %d \"!ARGS\"\n"`,
		New:      `"SecRuleUpdateTargetById %d \"!ARGS:/^json\\./\"\n"`,
		Packages: []string{"./internal/waf"},
		Run:      "^TestProseInValues$",
	},
	{
		Name:     "waf/base64-any-bytes",
		File:     "internal/waf/transformations.go",
		Old:      "if err != nil || !isText(out) {",
		New:      "if err != nil || false && !isText(out) {",
		Packages: []string{"./internal/waf"},
		Run:      "^TestBase64ShapedValuesPass$",
	},
}
