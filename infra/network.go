package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Network is the VPC: 2 AZs, public subnets (NAT gateways only), private subnets with egress
// (ALB, NLB, tasks, bastion, VPC link) and isolated subnets (the database).
type Network struct {
	VPC awsec2.Vpc
	// Endpoints are the interface endpoints (empty unless NetworkProps.Endpoints).
	Endpoints []awsec2.InterfaceVpcEndpoint
}

// NetworkProps configures the VPC.
type NetworkProps struct {
	// NATGateways is 1 (dev) or 2 (prod, one per AZ).
	NATGateways int
	// Endpoints adds VPC endpoints for ECR, S3, CloudWatch Logs and Secrets Manager.
	Endpoints bool
	// LogRetention is the retention of the flow logs.
	LogRetention awslogs.RetentionDays
}

// NewNetwork creates the VPC with flow logs to CloudWatch Logs.
func NewNetwork(scope constructs.Construct, id string, props NetworkProps) *Network {
	c := constructs.NewConstruct(scope, jsii.String(id))
	vpc := awsec2.NewVpc(c, jsii.String("Vpc"), &awsec2.VpcProps{
		MaxAzs:      jsii.Number(2),
		NatGateways: jsii.Number(props.NATGateways),
		IpAddresses: awsec2.IpAddresses_Cidr(jsii.String("10.0.0.0/16")),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String("public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(24)},
			{Name: jsii.String("private"), SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS, CidrMask: jsii.Number(22)},
			{Name: jsii.String("isolated"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED, CidrMask: jsii.Number(24)},
		},
		RestrictDefaultSecurityGroup: jsii.Bool(true),
	})
	logs := awslogs.NewLogGroup(c, jsii.String("FlowLogs"), &awslogs.LogGroupProps{
		Retention:     props.LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(c, jsii.String("FlowLogsRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("vpc-flow-logs.amazonaws.com"), nil),
	})
	vpc.AddFlowLog(jsii.String("FlowLog"), &awsec2.FlowLogOptions{
		Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(logs, role),
		TrafficType: awsec2.FlowLogTrafficType_ALL,
	})
	n := &Network{VPC: vpc}
	if props.Endpoints {
		vpc.AddGatewayEndpoint(jsii.String("S3"), &awsec2.GatewayVpcEndpointOptions{
			Service: awsec2.GatewayVpcEndpointAwsService_S3(),
		})
		for _, e := range []struct {
			name string
			svc  awsec2.InterfaceVpcEndpointAwsService
		}{
			{"EcrApi", awsec2.InterfaceVpcEndpointAwsService_ECR()},
			{"EcrDocker", awsec2.InterfaceVpcEndpointAwsService_ECR_DOCKER()},
			{"Logs", awsec2.InterfaceVpcEndpointAwsService_CLOUDWATCH_LOGS()},
			{"SecretsManager", awsec2.InterfaceVpcEndpointAwsService_SECRETS_MANAGER()},
		} {
			n.Endpoints = append(n.Endpoints, vpc.AddInterfaceEndpoint(jsii.String(e.name), &awsec2.InterfaceVpcEndpointOptions{
				Service: e.svc,
				Subnets: privateSubnets(),
			}))
		}
	}
	return n
}

// privateSubnets selects the private subnets with egress.
func privateSubnets() *awsec2.SubnetSelection {
	return &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS}
}
