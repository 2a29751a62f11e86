package main

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	elb "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/decagon/decagon/internal/topology"
)

// Service is one entry of decagon.yaml on ECS Fargate: task definition, service, target
// group with its listener rules, and step scaling.
type Service struct {
	Spec          topology.Service
	Fargate       awsecs.FargateService
	TaskRole      awsiam.Role
	TargetGroup   elb.ApplicationTargetGroup
	SecurityGroup awsec2.SecurityGroup
	Scaling       *Scaling

	blob bool // the service uses the uploads bucket
}

// ServiceProps is what a service needs from the rest of the stack.
type ServiceProps struct {
	Spec       topology.Service
	Cluster    awsecs.ICluster
	Repository awsecr.IRepository
	ImageTag   string
	LB         *LoadBalancer
	// Env are the DECAGON_* variables all services share; Secrets likewise.
	Env     map[string]*string
	Secrets map[string]awsecs.Secret
	// LogRetention is the retention of the service's log group.
	LogRetention awslogs.RetentionDays
	// AlarmPrefix prefixes the scaling alarms' names ("decagon-dev-tests-").
	AlarmPrefix string
}

// NewService creates the service `decagon serve <name>` as the seed's task definition and
// service: Fargate, awsvpc, private subnets, no public IP, a security group that admits the
// ALB only on the container port, rolling deployments bounded by the spec's percentages with a
// circuit breaker that rolls back.
func NewService(scope constructs.Construct, id string, props ServiceProps) *Service {
	s := props.Spec
	c := constructs.NewConstruct(scope, jsii.String(id))
	logs := awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention:     props.LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	taskRole := awsiam.NewRole(c, jsii.String("TaskRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), nil),
		Description: jsii.String(fmt.Sprintf("decagon %s tasks: only what the service itself calls", s.Name)),
	})
	task := awsecs.NewFargateTaskDefinition(c, jsii.String("Task"), &awsecs.FargateTaskDefinitionProps{
		Cpu:            jsii.Number(float64(s.CPU)),
		MemoryLimitMiB: jsii.Number(float64(s.Memory)),
		TaskRole:       taskRole,
		RuntimePlatform: &awsecs.RuntimePlatform{
			CpuArchitecture:       awsecs.CpuArchitecture_X86_64(),
			OperatingSystemFamily: awsecs.OperatingSystemFamily_LINUX(),
		},
		Volumes: &[]*awsecs.Volume{{Name: jsii.String("tmp")}},
	})
	env := map[string]*string{"DECAGON_ADDR": jsii.String(fmt.Sprintf(":%d", s.Port))}
	for k, v := range props.Env {
		env[k] = v
	}
	var memoryReservation *float64
	if s.MemoryReservation > 0 {
		memoryReservation = jsii.Number(float64(s.MemoryReservation))
	}
	container := task.AddContainer(jsii.String("App"), &awsecs.ContainerDefinitionOptions{
		ContainerName:          jsii.String(s.Name),
		Image:                  awsecs.ContainerImage_FromEcrRepository(props.Repository, jsii.String(props.ImageTag)),
		Command:                jsii.Strings("serve", s.Name),
		MemoryReservationMiB:   memoryReservation,
		PortMappings:           &[]*awsecs.PortMapping{{ContainerPort: jsii.Number(float64(s.Port)), Protocol: awsecs.Protocol_TCP}},
		Environment:            &env,
		Secrets:                &props.Secrets,
		Logging:                awsecs.LogDrivers_AwsLogs(&awsecs.AwsLogDriverProps{StreamPrefix: jsii.String(s.Name), LogGroup: logs}),
		ReadonlyRootFilesystem: jsii.Bool(true),
		StopTimeout:            awscdk.Duration_Seconds(jsii.Number(30)),
	})
	container.AddMountPoints(&awsecs.MountPoint{ContainerPath: jsii.String("/tmp"), SourceVolume: jsii.String("tmp"), ReadOnly: jsii.Bool(false)})

	sg := awsec2.NewSecurityGroup(c, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.Cluster.Vpc(),
		Description:      jsii.String(fmt.Sprintf("decagon %s tasks: from the ALB on the container port only", s.Name)),
		AllowAllOutbound: jsii.Bool(true),
	})
	svc := awsecs.NewFargateService(c, jsii.String("Service"), &awsecs.FargateServiceProps{
		Cluster:                props.Cluster,
		TaskDefinition:         task,
		DesiredCount:           jsii.Number(float64(s.DesiredCount)),
		MinHealthyPercent:      jsii.Number(float64(s.Deployment.MinHealthyPercent)),
		MaxHealthyPercent:      jsii.Number(float64(s.Deployment.MaxPercent)),
		CircuitBreaker:         &awsecs.DeploymentCircuitBreaker{Enable: jsii.Bool(true), Rollback: jsii.Bool(true)},
		VpcSubnets:             privateSubnets(),
		SecurityGroups:         &[]awsec2.ISecurityGroup{sg},
		AssignPublicIp:         jsii.Bool(false),
		HealthCheckGracePeriod: awscdk.Duration_Seconds(jsii.Number(60)),
		PlatformVersion:        awsecs.FargatePlatformVersion_LATEST,
		PropagateTags:          awsecs.PropagatedTagSource_SERVICE,
	})
	tg := elb.NewApplicationTargetGroup(c, jsii.String("TargetGroup"), &elb.ApplicationTargetGroupProps{
		Vpc:                 props.Cluster.Vpc(),
		TargetType:          elb.TargetType_IP,
		Port:                jsii.Number(float64(s.Port)),
		Protocol:            elb.ApplicationProtocol_HTTP,
		DeregistrationDelay: awscdk.Duration_Seconds(jsii.Number(30)),
		HealthCheck:         healthCheck(s.HealthCheck),
		Targets:             &[]elb.IApplicationLoadBalancerTarget{svc},
	})
	for i, r := range s.PathRules {
		elb.NewApplicationListenerRule(c, jsii.String(fmt.Sprintf("Rule%d", i)), &elb.ApplicationListenerRuleProps{
			Listener:   props.LB.Listener,
			Priority:   jsii.Number(float64(r.Priority)),
			Conditions: &[]elb.ListenerCondition{elb.ListenerCondition_PathPatterns(jsii.Strings(r.Paths...))},
			Action:     elb.ListenerAction_Forward(&[]elb.IApplicationTargetGroup{tg}, nil),
		})
	}
	// The ALB reaches the tasks on the container port, and nothing else does.
	props.LB.ALB.Connections().AllowTo(sg, awsec2.Port_Tcp(jsii.Number(float64(s.Port))), jsii.String(fmt.Sprintf("to the %s tasks", s.Name)))
	out := &Service{Spec: s, Fargate: svc, TaskRole: taskRole, TargetGroup: tg, SecurityGroup: sg}
	out.Scaling = NewScaling(c, "Scaling", ScalingProps{Cluster: props.Cluster, Service: svc, Spec: s, AlarmPrefix: props.AlarmPrefix})
	return out
}

// healthCheck is the target group health check of decagon.yaml, with ALB's semantics.
func healthCheck(h topology.HealthCheck) *elb.HealthCheck {
	return &elb.HealthCheck{
		Enabled:                 jsii.Bool(true),
		Path:                    jsii.String(h.Path),
		Interval:                awscdk.Duration_Seconds(jsii.Number(h.Interval.Seconds())),
		Timeout:                 awscdk.Duration_Seconds(jsii.Number(h.Timeout.Seconds())),
		HealthyThresholdCount:   jsii.Number(float64(h.HealthyThreshold)),
		UnhealthyThresholdCount: jsii.Number(float64(h.UnhealthyThreshold)),
		HealthyHttpCodes:        jsii.String(strings.ReplaceAll(h.SuccessCodes, " ", "")),
		Protocol:                elb.Protocol_HTTP,
	}
}
