package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// uploadsPrefix is the key prefix of the uploads service's objects; its task role is limited
// to it.
const uploadsPrefix = "uploads/"

// Storage holds the uploads bucket (the seed's S3 bucket behind /upload) and the bucket that
// receives the access logs of it and of the load balancers.
type Storage struct {
	Uploads awss3.Bucket
	Logs    awss3.Bucket
}

// StorageProps configures the buckets.
type StorageProps struct {
	// Prod retains the buckets when the stack is deleted.
	Prod bool
	// CORSOrigins may PUT to presigned URLs from a browser.
	CORSOrigins []string
}

// NewStorage creates the buckets: no public access, encrypted, TLS only, versioned uploads,
// incomplete multipart uploads aborted after a day, CORS for presigned PUTs.
func NewStorage(scope constructs.Construct, id string, props StorageProps) *Storage {
	c := constructs.NewConstruct(scope, jsii.String(id))
	removal, autoDelete := awscdk.RemovalPolicy_DESTROY, true
	if props.Prod {
		removal, autoDelete = awscdk.RemovalPolicy_RETAIN, false
	}
	logs := awss3.NewBucket(c, jsii.String("Logs"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		// Load balancer access logs need SSE-S3.
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     removal,
		AutoDeleteObjects: jsii.Bool(autoDelete),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-logs"),
			Expiration:                          awscdk.Duration_Days(jsii.Number(90)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
		}},
	})
	uploads := awss3.NewBucket(c, jsii.String("Uploads"), &awss3.BucketProps{
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:             jsii.Bool(true),
		MinimumTLSVersion:      jsii.Number(1.2),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:              jsii.Bool(true),
		RemovalPolicy:          removal,
		AutoDeleteObjects:      jsii.Bool(autoDelete),
		ServerAccessLogsBucket: logs,
		ServerAccessLogsPrefix: jsii.String("s3/uploads/"),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("abort-incomplete-multipart-uploads"),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
			NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(30)),
			ExpiredObjectDeleteMarker:           jsii.Bool(true),
		}},
		Cors: &[]*awss3.CorsRule{{
			AllowedMethods: &[]awss3.HttpMethods{awss3.HttpMethods_PUT},
			AllowedOrigins: jsii.Strings(props.CORSOrigins...),
			AllowedHeaders: jsii.Strings("content-type", "content-length", "content-md5", "x-amz-checksum-sha256"),
			ExposedHeaders: jsii.Strings("etag"),
			MaxAge:         jsii.Number(3000),
		}},
	})
	return &Storage{Uploads: uploads, Logs: logs}
}

// GrantUploads lets role put, get and delete objects under the uploads prefix, and nothing else.
func (s *Storage) GrantUploads(role awsiam.IRole) {
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("UploadsObjects"),
		Actions:   jsii.Strings("s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"),
		Resources: jsii.Strings(*s.Uploads.ArnForObjects(jsii.String(uploadsPrefix + "*"))),
	}))
	// ListBucket without a prefix condition: the health check's HeadBucket is authorized as
	// s3:ListBucket with no prefix, and without it a Stat of a missing object answers 403, not
	// 404. The bucket holds nothing but uploads.
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("UploadsList"),
		Actions:   jsii.Strings("s3:ListBucket"),
		Resources: jsii.Strings(*s.Uploads.BucketArn()),
	}))
}
