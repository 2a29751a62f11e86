package main

import (
	"strings"
	"testing"
)

// The seed: "a VPC with 2 private and 2 public subnets, and ... a bastion host for accessing our
// Database".
func TestNetwork(t *testing.T) {
	for _, tc := range []struct {
		config    string
		nat       int
		endpoints int
	}{
		{"v2-dev", 1, 0},
		{"v1-dev", 1, 0},
		{"v2-prod", 2, 5}, // one NAT per AZ; S3 gateway + ECR api, ECR docker, logs, secrets
	} {
		t.Run(tc.config, func(t *testing.T) {
			s := synth(t, tc.config)
			count(t, s, "AWS::EC2::VPC", 1)
			subnets := s.resources("AWS::EC2::Subnet")
			kinds := map[string]int{}
			for _, p := range subnets {
				for _, tag := range p["Tags"].([]any) {
					if get(tag, "Key") == "aws-cdk:subnet-type" {
						kinds[get(tag, "Value").(string)]++
					}
				}
			}
			if kinds["Public"] != 2 || kinds["Private"] != 2 || kinds["Isolated"] != 2 {
				t.Errorf("subnets by type = %v, want 2 public, 2 private, 2 isolated", kinds)
			}
			count(t, s, "AWS::EC2::NatGateway", tc.nat)
			count(t, s, "AWS::EC2::VPCEndpoint", tc.endpoints)
			has(t, s.app, "AWS::EC2::FlowLog", map[string]any{"ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"})
		})
	}
}

func TestBastion(t *testing.T) {
	s := synth(t, "v2-dev")
	id, inst := s.one(t, "AWS::EC2::Instance")
	if inst["KeyName"] != nil {
		t.Errorf("bastion has a key pair %v", inst["KeyName"])
	}
	sgs := inst["SecurityGroupIds"].([]any)
	if len(sgs) != 1 {
		t.Fatalf("bastion security groups = %v", sgs)
	}
	sgID := get(sgs[0], "Fn::GetAtt", 0).(string)
	sg := s.resources("AWS::EC2::SecurityGroup")[sgID]
	if sg["SecurityGroupIngress"] != nil {
		t.Errorf("bastion security group has inline ingress %v", sg["SecurityGroupIngress"])
	}
	for rid, in := range s.resources("AWS::EC2::SecurityGroupIngress") {
		if eq(in["GroupId"], getAtt(sgID, "GroupId")) {
			t.Errorf("ingress %s opens the bastion: %v", rid, js(in))
		}
		if in["FromPort"] == 22.0 || in["ToPort"] == 22.0 {
			t.Errorf("ingress %s opens SSH: %v", rid, js(in))
		}
	}
	// Private subnet, no public IP.
	subnet := get(inst, "SubnetId", "Ref").(string)
	if !strings.Contains(subnet, "private") {
		t.Errorf("bastion subnet %s is not private", subnet)
	}
	// Reached through SSM: the instance role may open Session Manager channels.
	found := false
	for id, p := range s.resources("AWS::IAM::Policy") {
		found = found || strings.HasPrefix(id, "BastionHost") && strings.Contains(js(p), "ssmmessages:*")
	}
	if !found {
		t.Error("the bastion's role cannot use Session Manager")
	}
	// Amazon Linux 2023 (AL2 reached end of support on 2026-06-30), arm64 for the t4g.
	if img := js(inst["ImageId"]); !strings.Contains(img, "SsmParameterValueawsserviceamiamazonlinuxlatestal2023amikernel") || !strings.Contains(img, "arm64") {
		t.Errorf("bastion image %s, want the Amazon Linux 2023 arm64 SSM parameter", img)
	}
	has(t, s.app, "AWS::EC2::LaunchTemplate", map[string]any{"LaunchTemplateData": map[string]any{"MetadataOptions": map[string]any{"HttpTokens": "required"}}})
	_ = id
}
