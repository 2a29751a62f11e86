package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// NewCluster creates the seed's "Networking only" (Fargate) ECS cluster with CloudWatch
// Container Insights.
func NewCluster(scope constructs.Construct, id string, vpc awsec2.IVpc) awsecs.Cluster {
	return awsecs.NewCluster(scope, jsii.String(id), &awsecs.ClusterProps{
		Vpc:                            vpc,
		ContainerInsightsV2:            awsecs.ContainerInsights_ENABLED,
		EnableFargateCapacityProviders: jsii.Bool(true),
	})
}
