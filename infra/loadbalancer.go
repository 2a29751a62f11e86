package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	elb "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// notFoundProblem is the listener's default answer: a path no rule matches.
const notFoundProblem = `{"type":"about:blank","title":"Not Found","status":404,"detail":"no service for this path"}`

// LoadBalancer is the seed's internal ALB, in the private subnets (the seed says "public
// subnets only" for an internal ALB: a mistake, an internal ALB belongs with its targets),
// with one listener whose rules the services add.
type LoadBalancer struct {
	ALB      elb.ApplicationLoadBalancer
	Listener elb.ApplicationListener
	// Port is the listener port: 80, or 443 with a certificate.
	Port int
	// Scheme is "http" or "https", as the integrations must call the listener.
	Scheme string
}

// LoadBalancerProps configures the ALB.
type LoadBalancerProps struct {
	VPC awsec2.IVpc
	// CertificateArn adds HTTPS on 443 instead of HTTP on 80.
	CertificateArn string
	// AccessLogs receives the access logs.
	AccessLogs awss3.IBucket
	// Prod turns deletion protection on.
	Prod bool
}

// NewLoadBalancer creates the ALB, its security group (no ingress until a VPC link or NLB is
// allowed in) and the listener with a 404 problem as the default action.
func NewLoadBalancer(scope constructs.Construct, id string, props LoadBalancerProps) *LoadBalancer {
	c := constructs.NewConstruct(scope, jsii.String(id))
	sg := awsec2.NewSecurityGroup(c, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.VPC,
		Description:      jsii.String("decagon ALB: from the VPC link or NLB only, to the services only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	alb := elb.NewApplicationLoadBalancer(c, jsii.String("Alb"), &elb.ApplicationLoadBalancerProps{
		Vpc:                     props.VPC,
		InternetFacing:          jsii.Bool(false),
		VpcSubnets:              privateSubnets(),
		SecurityGroup:           sg,
		DropInvalidHeaderFields: jsii.Bool(true),
		DeletionProtection:      jsii.Bool(props.Prod),
	})
	alb.LogAccessLogs(props.AccessLogs, jsii.String("alb"))
	lb := &LoadBalancer{ALB: alb, Port: 80, Scheme: "http"}
	listener := &elb.BaseApplicationListenerProps{
		Port:          jsii.Number(80),
		Protocol:      elb.ApplicationProtocol_HTTP,
		Open:          jsii.Bool(false),
		DefaultAction: elb.ListenerAction_FixedResponse(jsii.Number(404), &elb.FixedResponseOptions{ContentType: jsii.String("application/problem+json"), MessageBody: jsii.String(notFoundProblem)}),
	}
	if props.CertificateArn != "" {
		lb.Port, lb.Scheme = 443, "https"
		listener.Port = jsii.Number(443)
		listener.Protocol = elb.ApplicationProtocol_HTTPS
		listener.SslPolicy = elb.SslPolicy_RECOMMENDED_TLS
		listener.Certificates = &[]elb.IListenerCertificate{elb.ListenerCertificate_FromArn(jsii.String(props.CertificateArn))}
	}
	lb.Listener = alb.AddListener(jsii.String("Listener"), listener)
	return lb
}

// AllowFrom admits peer to the listener port.
func (lb *LoadBalancer) AllowFrom(peer awsec2.ISecurityGroup, why string) {
	lb.ALB.Connections().AllowFrom(peer, awsec2.Port_Tcp(jsii.Number(float64(lb.Port))), jsii.String(why))
}
