package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	elb "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2targets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawsec2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/decagon/decagon/internal/topology"
)

// VPCLink is how API Gateway reaches the internal ALB: the values the integrations need.
type VPCLink struct {
	// Mode is topology.VPCLinkV2 or topology.VPCLinkV1.
	Mode string
	// ID is the VPC link's ID (the integrations' connectionId).
	ID *string
	// Host is the integrations' host: the ALB's DNS name (V2) or the NLB's (V1).
	Host *string
	// Target is the ALB's ARN for V2 integrations (integrationTarget); nil for V1.
	Target *string
	// NLB is the V1 chain's network load balancer; nil for V2.
	NLB elb.NetworkLoadBalancer
}

// VPCLinkProps configures the VPC link.
type VPCLinkProps struct {
	VPC  awsec2.IVpc
	Mode string
	LB   *LoadBalancer
	// HealthCheckPath is what the NLB asks the ALB (V1): a path a listener rule forwards.
	HealthCheckPath string
	// AccessLogs receives the NLB's access logs (V1).
	AccessLogs awss3.IBucket
}

// NewVPCLink creates a VPC link V2 straight to the ALB, or (V1) the seed's chain: an internal
// NLB listening on the ALB's port, forwarding TCP to an ALB-type target group (no hand-copied
// IP addresses), and a VPC link V1 to the NLB.
func NewVPCLink(scope constructs.Construct, id string, props VPCLinkProps) *VPCLink {
	c := constructs.NewConstruct(scope, jsii.String(id))
	port := jsii.Number(float64(props.LB.Port))
	if props.Mode == topology.VPCLinkV2 {
		sg := awsec2.NewSecurityGroup(c, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
			Vpc:              props.VPC,
			Description:      jsii.String("decagon VPC link V2: to the ALB only"),
			AllowAllOutbound: jsii.Bool(false),
		})
		link := awsapigatewayv2.NewVpcLink(c, jsii.String("Link"), &awsapigatewayv2.VpcLinkProps{
			Vpc:            props.VPC,
			Subnets:        privateSubnets(),
			SecurityGroups: &[]interfacesawsec2.ISecurityGroupRef{sg},
		})
		props.LB.AllowFrom(sg, "from the API Gateway VPC link V2")
		return &VPCLink{Mode: props.Mode, ID: link.VpcLinkId(), Host: props.LB.ALB.LoadBalancerDnsName(), Target: props.LB.ALB.LoadBalancerArn()}
	}
	sg := awsec2.NewSecurityGroup(c, jsii.String("NlbSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.VPC,
		Description:      jsii.String("decagon NLB: from the VPC link V1 (PrivateLink), to the ALB only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	nlb := elb.NewNetworkLoadBalancer(c, jsii.String("Nlb"), &elb.NetworkLoadBalancerProps{
		Vpc:            props.VPC,
		InternetFacing: jsii.Bool(false),
		VpcSubnets:     privateSubnets(),
		SecurityGroups: &[]awsec2.ISecurityGroup{sg},
		// PrivateLink traffic from API Gateway carries no source security group to match.
		EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: jsii.Bool(false),
		CrossZoneEnabled: jsii.Bool(true),
	})
	nlb.LogAccessLogs(props.AccessLogs, jsii.String("nlb"))
	listener := nlb.AddListener(jsii.String("Listener"), &elb.BaseNetworkListenerProps{
		Port:     port,
		Protocol: elb.Protocol_TCP,
	})
	check := elb.Protocol_HTTP
	if props.LB.Scheme == "https" {
		check = elb.Protocol_HTTPS
	}
	listener.AddTargets(jsii.String("Alb"), &elb.AddNetworkTargetsProps{
		Port:    port,
		Targets: &[]elb.INetworkLoadBalancerTarget{awselasticloadbalancingv2targets.NewAlbListenerTarget(props.LB.Listener)},
		HealthCheck: &elb.HealthCheck{
			Protocol: check,
			Path:     jsii.String(props.HealthCheckPath),
		},
	})
	props.LB.AllowFrom(sg, "from the NLB of the VPC link V1")
	link := awsapigateway.NewVpcLink(c, jsii.String("Link"), &awsapigateway.VpcLinkProps{
		Targets:     &[]elb.INetworkLoadBalancer{nlb},
		Description: jsii.String("decagon: API Gateway to the internal NLB in front of the ALB"),
	})
	return &VPCLink{Mode: props.Mode, ID: link.VpcLinkId(), Host: nlb.LoadBalancerDnsName(), NLB: nlb}
}
