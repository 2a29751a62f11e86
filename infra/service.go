package main

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	elb "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
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
	// DeploymentAlarms are the alarms that roll a deployment back (target 5XX, unhealthy
	// targets); Monitoring also sends them to the alarm topic.
	DeploymentAlarms []awscloudwatch.Alarm

	blob bool // the service uses the uploads bucket
}

// ServiceProps is what a service needs from the rest of the stack.
type ServiceProps struct {
	Spec       topology.Service
	Cluster    awsecs.ICluster
	Repository awsecr.IRepository
	// ImageDigest pins the image ("sha256:...").
	ImageDigest string
	LB          *LoadBalancer
	// Stage is the API Gateway stage name: its prefix may reach the ALB (see stagedRulePriority).
	Stage string
	// Prod runs every task on on-demand Fargate; dev puts all but the first on Fargate Spot.
	Prod bool
	// Env are the DECAGON_* variables all services share; Secrets likewise.
	Env     map[string]*string
	Secrets map[string]awsecs.Secret
	// DatabaseSecret, when set, is the RDS-managed secret of the database password: its ARN
	// goes to the task as DECAGON_DATABASE_SECRET_ARN and the task role may read it, so that
	// the service reads the password for each new connection and a rotation needs no restart
	// (an ECS secret is resolved once, when the task starts).
	DatabaseSecret awssecretsmanager.ISecret
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
	if props.DatabaseSecret != nil {
		env["DECAGON_DATABASE_SECRET_ARN"] = props.DatabaseSecret.SecretArn()
		// The task role, not the execution role: the service itself reads the secret while it
		// runs. GetSecretValue only (GrantRead adds DescribeSecret, which the service never
		// calls); the secret is encrypted with the Secrets Manager key, no KMS grant is needed.
		taskRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
			Resources: jsii.Strings(*props.DatabaseSecret.SecretArn()),
		}))
	}
	var memoryReservation *float64
	if s.MemoryReservation > 0 {
		memoryReservation = jsii.Number(float64(s.MemoryReservation))
	}
	container := task.AddContainer(jsii.String("App"), &awsecs.ContainerDefinitionOptions{
		ContainerName: jsii.String(s.Name),
		// A digest, never a tag: the task runs exactly the image that was pushed and checked.
		Image:                  awsecs.ContainerImage_FromEcrRepository(props.Repository, jsii.String(props.ImageDigest)),
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
	tg := elb.NewApplicationTargetGroup(c, jsii.String("TargetGroup"), &elb.ApplicationTargetGroupProps{
		Vpc:                 props.Cluster.Vpc(),
		TargetType:          elb.TargetType_IP,
		Port:                jsii.Number(float64(s.Port)),
		Protocol:            elb.ApplicationProtocol_HTTP,
		DeregistrationDelay: awscdk.Duration_Seconds(jsii.Number(30)),
		HealthCheck:         healthCheck(s.HealthCheck),
	})
	// The alarms' names are known before the alarms: their metrics need the target group
	// attached to the listener, which needs the service.
	var alarmNames []*string
	for _, id := range deploymentAlarmIDs {
		alarmNames = append(alarmNames, jsii.String(props.AlarmPrefix+id))
	}
	svc := awsecs.NewFargateService(c, jsii.String("Service"), &awsecs.FargateServiceProps{
		Cluster:           props.Cluster,
		TaskDefinition:    task,
		DesiredCount:      jsii.Number(float64(s.DesiredCount)),
		MinHealthyPercent: jsii.Number(float64(s.Deployment.MinHealthyPercent)),
		MaxHealthyPercent: jsii.Number(float64(s.Deployment.MaxPercent)),
		CircuitBreaker:    &awsecs.DeploymentCircuitBreaker{Enable: jsii.Bool(true), Rollback: jsii.Bool(true)},
		// The circuit breaker catches tasks that never get healthy; these alarms catch a
		// release whose tasks are healthy but answer 5XX or fail their checks later.
		DeploymentAlarms: &awsecs.DeploymentAlarmConfig{
			AlarmNames: &alarmNames,
			Behavior:   awsecs.AlarmBehavior_ROLLBACK_ON_ALARM,
		},
		CapacityProviderStrategies: capacityProviders(props.Prod),
		VpcSubnets:                 privateSubnets(),
		SecurityGroups:             &[]awsec2.ISecurityGroup{sg},
		AssignPublicIp:             jsii.Bool(false),
		HealthCheckGracePeriod:     awscdk.Duration_Seconds(jsii.Number(60)),
		PlatformVersion:            awsecs.FargatePlatformVersion_LATEST,
		PropagateTags:              awsecs.PropagatedTagSource_SERVICE,
	})
	tg.AddTarget(svc)
	addListenerRules(c, props.LB.Listener, tg, s.PathRules, props.Stage)
	alarms := deploymentAlarms(c, tg, props.AlarmPrefix, s.Name)
	// The ALB reaches the tasks on the container port, and nothing else does.
	props.LB.ALB.Connections().AllowTo(sg, awsec2.Port_Tcp(jsii.Number(float64(s.Port))), jsii.String(fmt.Sprintf("to the %s tasks", s.Name)))
	out := &Service{Spec: s, Fargate: svc, TaskRole: taskRole, TargetGroup: tg, SecurityGroup: sg, DeploymentAlarms: alarms}
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

// deploymentAlarmIDs name the deployment alarms, after the service's alarm prefix.
var deploymentAlarmIDs = []string{"Target5xx", "UnhealthyHosts"}

// deploymentAlarms are the service's rollback alarms, named so that the ECS deployment can
// watch them: more than 10 target 5XX in a minute twice in a row, and a target unhealthy for 2
// minutes.
func deploymentAlarms(scope constructs.Construct, tg elb.ApplicationTargetGroup, prefix, name string) []awscloudwatch.Alarm {
	one := awscdk.Duration_Minutes(jsii.Number(1))
	t5xx := tg.Metrics().HttpCodeTarget(elb.HttpCodeTarget_TARGET_5XX_COUNT, &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: one})
	unhealthy := tg.Metrics().UnhealthyHostCount(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: one})
	mk := func(id string, m awscloudwatch.IMetric, threshold float64, cmp awscloudwatch.ComparisonOperator, what string) awscloudwatch.Alarm {
		return awscloudwatch.NewAlarm(scope, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmName:          jsii.String(prefix + id),
			AlarmDescription:   jsii.String("decagon " + name + ": " + what + " (rolls a deployment back)"),
			Metric:             m,
			Threshold:          jsii.Number(threshold),
			EvaluationPeriods:  jsii.Number(2),
			DatapointsToAlarm:  jsii.Number(2),
			ComparisonOperator: cmp,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
	}
	return []awscloudwatch.Alarm{
		mk(deploymentAlarmIDs[0], t5xx, 10, awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, "more than 10 target 5XX a minute for 2 minutes"),
		mk(deploymentAlarmIDs[1], unhealthy, 1, awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD, "a target unhealthy for 2 minutes"),
	}
}

// capacityProviders runs prod on on-demand Fargate only; dev keeps its first task on demand
// and puts the rest on Fargate Spot (about 70 % cheaper, interruptible with a 2-minute notice
// that the drain on SIGTERM covers).
func capacityProviders(prod bool) *[]*awsecs.CapacityProviderStrategy {
	if prod {
		return &[]*awsecs.CapacityProviderStrategy{{CapacityProvider: jsii.String("FARGATE"), Weight: jsii.Number(1)}}
	}
	return &[]*awsecs.CapacityProviderStrategy{
		{CapacityProvider: jsii.String("FARGATE"), Base: jsii.Number(1), Weight: jsii.Number(1)},
		{CapacityProvider: jsii.String("FARGATE_SPOT"), Weight: jsii.Number(1)},
	}
}
