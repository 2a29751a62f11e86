package main

import (
	"strings"
	"testing"
)

// The seed: "create a Postgres Database (non-public with in your VPC with private subnets)".
func TestDatabase(t *testing.T) {
	for _, tc := range []struct {
		config              string
		multiAZ, protection bool
		backupDays          float64
	}{
		{"v2-dev", false, false, 7},
		{"v2-prod", true, true, 30},
	} {
		t.Run(tc.config, func(t *testing.T) {
			s := synth(t, tc.config)
			_, db := s.one(t, "AWS::RDS::DBInstance")
			checks := []struct {
				key  string
				want any
			}{
				{"Engine", "postgres"},
				{"PubliclyAccessible", false},
				{"StorageEncrypted", true},
				{"MultiAZ", tc.multiAZ},
				{"DeletionProtection", tc.protection},
				{"BackupRetentionPeriod", tc.backupDays},
				{"DBName", "decagon"},
				{"ManageMasterUserPassword", true},
				{"EnableIAMDatabaseAuthentication", true},
				{"MonitoringInterval", 60.0},
				{"MasterUserPassword", nil},
			}
			for _, c := range checks {
				if !eq(db[c.key], c.want) {
					t.Errorf("DBInstance.%s = %v, want %v", c.key, db[c.key], c.want)
				}
			}
			if v, _ := db["EngineVersion"].(string); v < "16" {
				t.Errorf("EngineVersion = %q, want 16 or newer", v)
			}
			// RDS manages the password: no secret in the template, the tasks read RDS's.
			count(t, s, "AWS::SecretsManager::Secret", 0)
			if strings.Contains(js(s.raw), "managed-by-rds") {
				t.Error("the placeholder password reached the template")
			}
			for _, name := range []string{"tests", "uploads"} {
				found := false
				for id, p := range s.resources("AWS::IAM::Policy") {
					found = found || strings.HasPrefix(id, "Service"+name+"TaskRole") && strings.Contains(js(p), `"rds-db:connect"`) && strings.Contains(js(p), ":dbuser:")
				}
				if !found {
					t.Errorf("the %s task role may not connect with IAM authentication", name)
				}
			}
			if db["MonitoringRoleArn"] == nil {
				t.Error("enhanced monitoring has no role")
			}
			found := false
			for _, td := range s.resources("AWS::ECS::TaskDefinition") {
				found = found || strings.Contains(js(td), `"MasterUserSecret.SecretArn"`)
			}
			if !found {
				t.Error("no task reads the RDS-managed secret")
			}
			// In the isolated subnets.
			_, group := s.one(t, "AWS::RDS::DBSubnetGroup")
			for _, sn := range group["SubnetIds"].([]any) {
				if id := get(sn, "Ref").(string); !strings.Contains(id, "isolated") {
					t.Errorf("database subnet %s is not isolated", id)
				}
			}
		})
	}
}

// Only the services and the bastion reach the database port.
func TestDatabaseIngress(t *testing.T) {
	s := synth(t, "v2-dev")
	dbSG := ""
	for id, sg := range s.resources("AWS::EC2::SecurityGroup") {
		if strings.Contains(sg["GroupDescription"].(string), "database") {
			dbSG = id
		}
	}
	var sources []string
	for _, in := range s.resources("AWS::EC2::SecurityGroupIngress") {
		if !eq(in["GroupId"], getAtt(dbSG, "GroupId")) {
			continue
		}
		if in["FromPort"] != 5432.0 || in["ToPort"] != 5432.0 || in["CidrIp"] != nil {
			t.Errorf("database ingress %s, want port 5432 from a security group", js(in))
		}
		sources = append(sources, get(in, "SourceSecurityGroupId", "Fn::GetAtt", 0).(string))
	}
	want := []string{"Bastion", "Servicetests", "Serviceuploads"}
	if len(sources) != len(want) {
		t.Fatalf("database ingress from %v, want %v", sources, want)
	}
	for _, w := range want {
		found := false
		for _, src := range sources {
			found = found || strings.HasPrefix(src, w)
		}
		if !found {
			t.Errorf("no database ingress from %s (have %v)", w, sources)
		}
	}
}

// The seed's ECR repository, made safe: scan on push, immutable tags, a lifecycle.
func TestRegistry(t *testing.T) {
	s := synth(t, "v2-dev")
	has(t, s.reg, "AWS::ECR::Repository", map[string]any{
		"ImageScanningConfiguration": map[string]any{"ScanOnPush": true},
		"ImageTagMutability":         "IMMUTABLE",
		"RepositoryName":             "decagon-dev-registry",
	})
	if !strings.Contains(js(s.reg.ToJSON()), "LifecyclePolicyText") {
		t.Error("repository has no lifecycle policy")
	}
	if get(*s.reg.ToJSON(), "Outputs", "RepositoryUri") == nil {
		t.Error("registry stack has no RepositoryUri output")
	}
}

// The seed's S3 bucket behind /upload.
func TestUploadsBucket(t *testing.T) {
	s := synth(t, "v2-dev")
	var uploads map[string]any
	var uploadsID string
	for id, b := range s.resources("AWS::S3::Bucket") {
		if strings.HasPrefix(id, "StorageUploads") {
			uploads, uploadsID = b, id
		}
	}
	if uploads == nil {
		t.Fatal("no uploads bucket")
	}
	rows := []struct {
		what string
		path []any
		want any
	}{
		{"block public ACLs", []any{"PublicAccessBlockConfiguration", "BlockPublicAcls"}, true},
		{"block public policy", []any{"PublicAccessBlockConfiguration", "BlockPublicPolicy"}, true},
		{"ignore public ACLs", []any{"PublicAccessBlockConfiguration", "IgnorePublicAcls"}, true},
		{"restrict public buckets", []any{"PublicAccessBlockConfiguration", "RestrictPublicBuckets"}, true},
		{"encryption", []any{"BucketEncryption", "ServerSideEncryptionConfiguration", 0, "ServerSideEncryptionByDefault", "SSEAlgorithm"}, "AES256"},
		{"versioning", []any{"VersioningConfiguration", "Status"}, "Enabled"},
		{"abort incomplete multipart", []any{"LifecycleConfiguration", "Rules", 0, "AbortIncompleteMultipartUpload", "DaysAfterInitiation"}, 1.0},
		{"CORS PUT", []any{"CorsConfiguration", "CorsRules", 0, "AllowedMethods", 0}, "PUT"},
		{"access logs", []any{"LoggingConfiguration", "LogFilePrefix"}, "s3/uploads/"},
	}
	for _, r := range rows {
		if got := get(uploads, r.path...); !eq(got, r.want) {
			t.Errorf("uploads bucket %s: %v = %v, want %v", r.what, r.path, js(got), r.want)
		}
	}
	// TLS only: a deny on aws:SecureTransport false in the bucket's policy.
	found := false
	for _, p := range s.resources("AWS::S3::BucketPolicy") {
		if eq(p["Bucket"], ref(uploadsID)) {
			found = strings.Contains(js(p), `"aws:SecureTransport":"false"`) && strings.Contains(js(p), `"Effect":"Deny"`)
		}
	}
	if !found {
		t.Error("uploads bucket policy does not deny plain HTTP")
	}
}

// Least privilege: no AmazonECS_FullAccess anywhere (the seed's task role), the uploads role
// limited to its prefix, the tests role without S3.
func TestIAM(t *testing.T) {
	for _, config := range []string{"v2-dev", "v1-dev", "v2-prod", "three"} {
		t.Run(config, func(t *testing.T) {
			s := synth(t, config)
			if strings.Contains(js(s.raw), "AmazonECS_FullAccess") {
				t.Error("the template grants AmazonECS_FullAccess")
			}
			for id, p := range s.resources("AWS::IAM::Policy") {
				doc := js(p["PolicyDocument"])
				if strings.Contains(doc, `"Action":"*"`) || strings.Contains(doc, `"s3:*"`) {
					t.Errorf("policy %s grants a wildcard action: %s", id, doc)
				}
				if strings.HasPrefix(id, "ServicetestsTaskRole") && strings.Contains(doc, "s3:") {
					t.Errorf("the tests task role may use S3: %s", doc)
				}
				if strings.HasPrefix(id, "ServiceuploadsTaskRole") {
					if !strings.Contains(doc, `/uploads/*`) || strings.Contains(doc, `"Arn"]},"/*"`) {
						t.Errorf("the uploads task role is not limited to uploads/: %s", doc)
					}
				}
			}
		})
	}
}
