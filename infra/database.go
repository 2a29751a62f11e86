package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Database names fixed by the app.
const (
	dbName = "decagon"
	dbUser = "decagon"
	dbPort = 5432
)

// Database is the seed's RDS PostgreSQL: private, in the isolated subnets, encrypted, its
// master password managed by RDS in Secrets Manager (manageMasterUserPassword: RDS generates and
// rotates it, nobody sees it in a template), IAM database authentication on, and enhanced
// monitoring every minute.
type Database struct {
	Instance      awsrds.DatabaseInstance
	Secret        awssecretsmanager.ISecret
	SecurityGroup awsec2.SecurityGroup
}

// DatabaseProps configures the database.
type DatabaseProps struct {
	VPC awsec2.IVpc
	// Prod keeps backups 30 days, turns deletion protection on and retains a snapshot on delete.
	Prod bool
	// MultiAZ runs a standby in the second AZ.
	MultiAZ bool
	// LogRetention is the retention of the exported PostgreSQL logs.
	LogRetention awslogs.RetentionDays
}

// NewDatabase creates the instance. Its security group admits nobody yet: the services and the
// bastion are allowed in with Allow.
func NewDatabase(scope constructs.Construct, id string, props DatabaseProps) *Database {
	c := constructs.NewConstruct(scope, jsii.String(id))
	sg := awsec2.NewSecurityGroup(c, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.VPC,
		Description:      jsii.String("decagon database: the services and the bastion only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	backup, removal := 7.0, awscdk.RemovalPolicy_DESTROY
	if props.Prod {
		backup, removal = 30, awscdk.RemovalPolicy_SNAPSHOT
	}
	db := awsrds.NewDatabaseInstance(c, jsii.String("Instance"), &awsrds.DatabaseInstanceProps{
		Engine: awsrds.DatabaseInstanceEngine_Postgres(&awsrds.PostgresInstanceEngineProps{
			Version: awsrds.PostgresEngineVersion_VER_17(),
		}),
		InstanceType:        awsec2.InstanceType_Of(awsec2.InstanceClass_BURSTABLE4_GRAVITON, awsec2.InstanceSize_MICRO),
		Vpc:                 props.VPC,
		VpcSubnets:          &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED},
		SecurityGroups:      &[]awsec2.ISecurityGroup{sg},
		PubliclyAccessible:  jsii.Bool(false),
		StorageEncrypted:    jsii.Bool(true),
		AllocatedStorage:    jsii.Number(20),
		MaxAllocatedStorage: jsii.Number(100),
		StorageType:         awsrds.StorageType_GP3,
		DatabaseName:        jsii.String(dbName),
		Port:                jsii.Number(dbPort),
		// The password is RDS's own (ManageMasterUserPassword below); this placeholder only
		// satisfies the L2 construct and is deleted from the template.
		Credentials:               awsrds.Credentials_FromPassword(jsii.String(dbUser), awscdk.SecretValue_UnsafePlainText(jsii.String("managed-by-rds"))),
		MultiAz:                   jsii.Bool(props.MultiAZ),
		BackupRetention:           awscdk.Duration_Days(jsii.Number(backup)),
		DeletionProtection:        jsii.Bool(props.Prod),
		RemovalPolicy:             removal,
		DeleteAutomatedBackups:    jsii.Bool(!props.Prod),
		AutoMinorVersionUpgrade:   jsii.Bool(true),
		CloudwatchLogsExports:     &[]*string{jsii.String("postgresql"), jsii.String("upgrade")},
		CloudwatchLogsRetention:   props.LogRetention,
		EnablePerformanceInsights: jsii.Bool(true),
		CopyTagsToSnapshot:        jsii.Bool(true),
		IamAuthentication:         jsii.Bool(true),
		MonitoringInterval:        awscdk.Duration_Seconds(jsii.Number(60)),
		Parameters:                &map[string]*string{"rds.force_ssl": jsii.String("1")},
	})
	cfn := db.Node().DefaultChild().(awsrds.CfnDBInstance)
	cfn.AddPropertyDeletionOverride(jsii.String("MasterUserPassword"))
	cfn.SetManageMasterUserPassword(jsii.Bool(true))
	// The secret RDS creates: {"username": ..., "password": ...}, encrypted with the account's
	// Secrets Manager key, rotated by RDS every 7 days.
	secret := awssecretsmanager.Secret_FromSecretCompleteArn(c, jsii.String("MasterSecret"), cfn.AttrMasterUserSecretSecretArn())
	return &Database{Instance: db, Secret: secret, SecurityGroup: sg}
}

// Allow admits peer to the database port.
func (d *Database) Allow(peer awsec2.ISecurityGroup, why string) {
	d.SecurityGroup.AddIngressRule(peer, awsec2.Port_Tcp(jsii.Number(dbPort)), jsii.String(why), nil)
}
