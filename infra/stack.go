package main

import (
	"fmt"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// blobServices are the services that use the uploads bucket; only their task roles may.
var blobServices = []string{"uploads"}

// AppStack is decagon on AWS, in the seed's order: network and bastion, database, cluster and
// services, load balancer and VPC link, identity, API, firewall, storage, monitoring.
type AppStack struct {
	awscdk.Stack
	Config     Config
	Network    *Network
	Bastion    *Bastion
	Database   *Database
	Storage    *Storage
	LB         *LoadBalancer
	Link       *VPCLink
	Identity   *Identity
	API        *API
	Firewall   *Firewall
	Services   []*Service
	Monitoring *Monitoring
}

// NewAppStack creates the stack. It panics on an invalid api/openapi.yaml (Build checks the
// configuration first, so this is a bug in the document the tests catch).
func NewAppStack(scope constructs.Construct, id string, cfg Config, repo awsecr.IRepository) *AppStack {
	st := awscdk.NewStack(scope, jsii.String(id), &awscdk.StackProps{
		Env:         &awscdk.Environment{Region: jsii.String(cfg.Region)},
		Description: jsii.String(fmt.Sprintf("decagon (%s): the seed's system — WAF, API Gateway, Cognito, VPC link, ALB, ECS Fargate, RDS, S3, CloudWatch", cfg.Env)),
	})
	a := &AppStack{Stack: st, Config: cfg}
	retention, nat := awslogs.RetentionDays_ONE_MONTH, 1
	if cfg.Prod() {
		retention, nat = awslogs.RetentionDays_ONE_YEAR, 2
	}
	topo := cfg.Topology

	a.Network = NewNetwork(st, "Network", NetworkProps{NATGateways: nat, Endpoints: cfg.VPCEndpoints, LogRetention: retention})
	vpc := a.Network.VPC
	a.Bastion = NewBastion(st, "Bastion", vpc)
	a.Database = NewDatabase(st, "Database", DatabaseProps{VPC: vpc, Prod: cfg.Prod(), MultiAZ: cfg.MultiAZ, LogRetention: retention})
	a.Database.Allow(a.Bastion.SecurityGroup, "from the bastion (SSM port forwarding)")
	a.Storage = NewStorage(st, "Storage", StorageProps{Prod: cfg.Prod(), CORSOrigins: cfg.CORSOrigins})
	a.Identity = NewIdentity(st, "Identity", IdentityProps{Scopes: mustDocument(cfg.OpenAPI).Scopes(), Prod: cfg.Prod()})

	cluster := NewCluster(st, "Cluster", vpc)
	a.LB = NewLoadBalancer(st, "LoadBalancer", LoadBalancerProps{VPC: vpc, CertificateArn: cfg.CertificateArn, AccessLogs: a.Storage.Logs, Prod: cfg.Prod()})
	db := a.Database.Instance
	env := map[string]*string{
		// No password here: each service reads it from the RDS-managed secret for every new
		// connection (ServiceProps.DatabaseSecret), so RDS's rotation needs no redeploy.
		"DECAGON_DATABASE_URL": jsii.String(fmt.Sprintf("postgres://%s@%s:%s/%s?sslmode=require",
			dbUser, *db.DbInstanceEndpointAddress(), *db.DbInstanceEndpointPort(), dbName)),
		"DECAGON_AUTH_ISSUER": a.Identity.Pool.UserPoolProviderUrl(),
		// Both app clients: the services check client_id of access tokens (defense in depth), and
		// machine callers' tokens carry the machine client's.
		"DECAGON_AUTH_CLIENT_ID": awscdk.Fn_Join(jsii.String(","), &[]*string{
			a.Identity.Client.UserPoolClientId(), a.Identity.Machine.UserPoolClientId()}),
		"DECAGON_CLOUDWATCH_EMF": jsii.String("true"),
	}
	for _, spec := range topo.Services {
		svcEnv := env
		if slices.Contains(blobServices, spec.Name) {
			svcEnv = map[string]*string{
				"DECAGON_BLOB_URL": jsii.String(fmt.Sprintf("s3://%s?region=%s",
					*a.Storage.Uploads.BucketName(), *awscdk.Aws_REGION())),
				// decagon.yaml's cap on a presigned upload, as `decagon dev` applies it.
				"DECAGON_MAX_PRESIGNED_SIZE": jsii.String(fmt.Sprint(spec.Uploads.PresignCap())),
			}
			for k, v := range env {
				svcEnv[k] = v
			}
		}
		svc := NewService(st, "Service-"+spec.Name, ServiceProps{
			Spec: spec, Cluster: cluster, Repository: repo, ImageDigest: cfg.ImageDigest, LB: a.LB,
			Stage: topo.Stage.Name, Prod: cfg.Prod(),
			Env: svcEnv, DatabaseSecret: a.Database.Secret, LogRetention: retention,
			AlarmPrefix: fmt.Sprintf("%s-%s-", id, spec.Name),
		})
		if slices.Contains(blobServices, spec.Name) {
			svc.blob = true
			a.Storage.GrantUploads(svc.TaskRole)
		}
		a.Database.Allow(svc.SecurityGroup, "from the "+spec.Name+" tasks")
		// IAM database authentication for the service's user, the other way past RDS's 7-day
		// rotation (an rds-db:connect token per connection); the services use the secret today.
		db.GrantConnect(svc.TaskRole, jsii.String(dbUser))
		a.Services = append(a.Services, svc)
	}

	a.Link = NewVPCLink(st, "VpcLink", VPCLinkProps{
		VPC: vpc, Mode: cfg.VPCLink, LB: a.LB, AccessLogs: a.Storage.Logs,
		HealthCheckPath: topo.Services[0].HealthCheck.Path,
	})
	integ := Integration{Scheme: a.LB.Scheme, ConnectionID: *a.Link.ID, Host: *a.Link.Host}
	if cfg.ALBDomainName != "" {
		integ.Host = cfg.ALBDomainName // the certificate's name, resolving to the ALB
	}
	if a.Link.Target != nil {
		integ.Target = *a.Link.Target
	}
	doc, err := mustDocument(cfg.OpenAPI).Rewrite(map[string]string{"userPoolArn": *a.Identity.Pool.UserPoolArn()}, integ)
	if err != nil {
		panic(fmt.Sprintf("api/openapi.yaml: %v", err))
	}
	a.API = NewAPI(st, "Api", APIProps{Document: doc, Stage: topo.Stage, LogRetention: retention})
	a.Firewall = NewFirewall(st, "Firewall", FirewallProps{Spec: topo.WAF, Stage: topo.Stage.Name, Bodies: mustDocument(cfg.OpenAPI).Bodies(), StageArn: a.API.StageArn, LogRetention: retention})
	a.Monitoring = NewMonitoring(st, "Monitoring", MonitoringProps{
		AlarmEmail: cfg.AlarmEmail, API: a.API, Firewall: a.Firewall, Services: a.Services,
		Database: db, ALB: a.LB.ALB,
	})
	a.outputs()
	return a
}

func (a *AppStack) outputs() {
	out := func(id string, v *string, desc string) {
		awscdk.NewCfnOutput(a.Stack, jsii.String(id), &awscdk.CfnOutputProps{Value: v, Description: jsii.String(desc)})
	}
	out("InvokeUrl", a.API.Rest.Url(), "the Test stage: curl -H \"Authorization: $ID_TOKEN\" <url>test")
	out("UserPoolId", a.Identity.Pool.UserPoolId(), "Cognito user pool")
	out("UserPoolClientId", a.Identity.Client.UserPoolClientId(), "Cognito app client for people (USER_PASSWORD_AUTH, SRP, authorization code)")
	out("MachineClientId", a.Identity.Machine.UserPoolClientId(), "Cognito app client for services (client_credentials; its secret: aws cognito-idp describe-user-pool-client)")
	out("TokenUrl", a.Identity.TokenURL, "the OAuth 2.0 token endpoint (client_credentials)")
	out("UploadsBucket", a.Storage.Uploads.BucketName(), "the uploads bucket")
	out("BastionInstanceId", a.Bastion.Host.InstanceId(), "aws ssm start-session --target <id>")
	out("ImageDigest", jsii.String(a.Config.ImageDigest), "the service image the tasks run")
	out("DatabaseEndpoint", a.Database.Instance.DbInstanceEndpointAddress(), "RDS endpoint (through the bastion)")
	out("DatabaseSecretArn", a.Database.Secret.SecretArn(), "the database credentials")
	out("AlbDnsName", a.LB.ALB.LoadBalancerDnsName(), "the internal ALB")
}

// mustDocument parses api/openapi.yaml; LoadConfig has read it.
func mustDocument(data []byte) Document {
	d, err := ParseDocument(data)
	if err != nil {
		panic(err)
	}
	return d
}
