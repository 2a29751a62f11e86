package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// logRetentionPath is the construct path of CDK's log retention function (a singleton that
// sets the retention of the RDS log groups), under the stack.
const logRetentionPath = "/LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a"

// suppression is one accepted cdk-nag finding: the rule, the resource, the reason and, for
// IAM5, the exact wildcard findings accepted.
type suppression struct {
	rule      string
	resource  any // a construct, or a path under the stack (string)
	reason    string
	appliesTo []string
}

// suppress adds every cdk-nag suppression of the app. This is the only place suppressions are
// made; each names the rule, the resource and the reason.
func suppress(_ *RegistryStack, st *AppStack) {
	list := []suppression{
		// Bastion.
		{"AwsSolutions-IAM5", st.Bastion.Host, "The SSM agent needs ssmmessages:* and ec2messages:* on * for Session Manager (CDK's BastionHostLinux policy); this is what replaces inbound SSH.",
			[]string{"Action::ssmmessages:*", "Action::ec2messages:*", "Resource::*"}},
		{"AwsSolutions-EC28", st.Bastion.Host, "The bastion is an idle admin host used for port forwarding; basic monitoring is enough and detailed monitoring costs more than the instance.", nil},
		{"AwsSolutions-EC29", st.Bastion.Host, "The bastion is stateless and replaceable (no key pair, no data); termination protection would only block stack updates.", nil},
		// Database.
		{"AwsSolutions-SMG4", st.Database.Instance, "The password reaches the tasks as an ECS secret at start; rotating it underneath running tasks would break their new connections. Rotate by updating the secret and redeploying the services.", nil},
		{"AwsSolutions-IAM4", "/Database/Instance/MonitoringRole", "RDS enhanced monitoring's role uses AmazonRDSEnhancedMonitoringRole, the policy AWS provides for exactly this (it only writes the RDSOSMetrics log group).",
			[]string{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"}},
		{"AwsSolutions-RDS11", st.Database.Instance, "The port is not a secret: the database is in isolated subnets and its security group admits only the service tasks and the bastion.", nil},
		{"AwsSolutions-IAM4", logRetentionPath, "CDK's log retention function (it sets the retention of the RDS log groups) uses AWSLambdaBasicExecutionRole.",
			[]string{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}},
		{"AwsSolutions-IAM5", logRetentionPath, "CDK's log retention function must be able to set the retention of log groups it does not know in advance.", []string{"Resource::*"}},
		// Identity.
		{"AwsSolutions-COG2", st.Identity.Pool, "MFA is optional (TOTP) as the issue asks: users enable it; it is not forced on API clients.", nil},
		{"AwsSolutions-COG8", st.Identity.Pool, "The Plus feature plan (threat protection) is billed per active user; the Essentials plan is the default here. Switch on for production traffic from unknown users.", nil},
		// API.
		{"AwsSolutions-APIG2", st.API.Rest, "Request validation is in the imported body: x-amazon-apigateway-request-validators and x-amazon-apigateway-request-validator in api/openapi.yaml (cdk-nag cannot see inside the body).", nil},
		{"AwsSolutions-IAM4", st.API.Rest, "API Gateway's account-level CloudWatch role uses AmazonAPIGatewayPushToCloudWatchLogs, the policy AWS provides for exactly this.",
			[]string{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"}},
	}
	if !st.Config.MultiAZ {
		list = append(list, suppression{"AwsSolutions-RDS3", st.Database.Instance, "dev: a single-AZ database to halve its cost; prod (or -c multiAz=true) runs Multi-AZ.", nil})
	}
	if !st.Config.Prod() {
		list = append(list, suppression{"AwsSolutions-RDS10", st.Database.Instance, "dev: deletion protection off so that `cdk destroy` cleans up; prod turns it on.", nil})
	}
	for _, e := range st.Network.Endpoints {
		list = append(list, suppression{"CdkNagValidationFailure", e, "AwsSolutions-EC23 cannot evaluate the endpoint's ingress rule: it admits HTTPS from the VPC's CIDR (a token), not from 0.0.0.0/0.", nil})
	}
	for _, s := range st.Services {
		list = append(list,
			suppression{"AwsSolutions-ECS2", s.Fargate.TaskDefinition(), "The environment holds configuration only (listen address, database host without password, the database secret's ARN, issuer, client ID, bucket URL); the service reads the password itself from Secrets Manager for each new connection.", nil},
			suppression{"AwsSolutions-IAM5", s.Fargate.TaskDefinition(), "The execution role needs ecr:GetAuthorizationToken, which has no resource-level permissions (Resource *); its other grants are scoped to the repository, log group and secret.", []string{"Resource::*"}})
		if s.blob {
			list = append(list, suppression{"AwsSolutions-IAM5", s.TaskRole, "Object access is limited to the uploads/ prefix of the uploads bucket: the wildcard is the prefix, which is the least privilege for a service that creates objects.",
				[]string{"Resource::<" + logicalID(st.Stack, st.Storage.Uploads.Node().DefaultChild()) + ".Arn>/uploads/*"}})
		}
	}
	for _, s := range list {
		sup := &cdknag.NagPackSuppression{Id: jsii.String(s.rule), Reason: jsii.String(s.reason)}
		if s.appliesTo != nil {
			applies := make([]any, len(s.appliesTo))
			for i, a := range s.appliesTo {
				applies[i] = a
			}
			sup.AppliesTo = &applies
		}
		if path, ok := s.resource.(string); ok {
			cdknag.NagSuppressions_AddResourceSuppressionsByPath(st.Stack, jsii.String("/"+*st.StackName()+path), &[]*cdknag.NagPackSuppression{sup}, jsii.Bool(true))
			continue
		}
		cdknag.NagSuppressions_AddResourceSuppressions(s.resource, &[]*cdknag.NagPackSuppression{sup}, jsii.Bool(true))
	}
}

// logicalID is the CloudFormation logical ID of a resource, as cdk-nag writes it in findings.
func logicalID(st awscdk.Stack, res any) string {
	return *st.GetLogicalId(res.(awscdk.CfnElement))
}
