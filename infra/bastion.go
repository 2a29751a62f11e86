package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Bastion is the seed's bastion host for database access, reached through SSM Session Manager
// only: no inbound rule, no key pair, no public IP. Its security group is the one
// non-service source the database admits.
type Bastion struct {
	Host          awsec2.BastionHostLinux
	SecurityGroup awsec2.SecurityGroup
}

// NewBastion creates the bastion (Amazon Linux 2023) in a private subnet (it reaches SSM through the NAT gateway
// or the VPC endpoints), with an encrypted root volume and IMDSv2 required.
func NewBastion(scope constructs.Construct, id string, vpc awsec2.IVpc) *Bastion {
	c := constructs.NewConstruct(scope, jsii.String(id))
	sg := awsec2.NewSecurityGroup(c, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      jsii.String("decagon bastion: no inbound rules, reached through SSM Session Manager"),
		AllowAllOutbound: jsii.Bool(true),
	})
	host := awsec2.NewBastionHostLinux(c, jsii.String("Host"), &awsec2.BastionHostLinuxProps{
		Vpc:             vpc,
		SubnetSelection: privateSubnets(),
		SecurityGroup:   sg,
		InstanceType:    awsec2.InstanceType_Of(awsec2.InstanceClass_BURSTABLE4_GRAVITON, awsec2.InstanceSize_NANO),
		// Amazon Linux 2 reached end of support on 2026-06-30 (CDK's bastion default is still
		// AL2): Amazon Linux 2023 for arm64, the t4g's architecture, from AWS's SSM parameter.
		MachineImage: awsec2.MachineImage_LatestAmazonLinux2023(&awsec2.AmazonLinux2023ImageSsmParameterProps{
			CpuType: awsec2.AmazonLinuxCpuType_ARM_64,
		}),
		RequireImdsv2: jsii.Bool(true),
		BlockDevices: &[]*awsec2.BlockDevice{{
			DeviceName: jsii.String("/dev/xvda"),
			Volume: awsec2.BlockDeviceVolume_Ebs(jsii.Number(8), &awsec2.EbsDeviceOptions{
				Encrypted:  jsii.Bool(true),
				VolumeType: awsec2.EbsDeviceVolumeType_GP3,
			}),
		}},
	})
	return &Bastion{Host: host, SecurityGroup: sg}
}
