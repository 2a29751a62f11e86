package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapplicationautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/decagon/decagon/internal/topology"
)

// Scaling is the seed's service auto scaling: a scalable target (min..max tasks, through the
// Application Auto Scaling service-linked role) and two step scaling policies, each triggered
// by a named CloudWatch alarm on the service metric.
type Scaling struct {
	Target        awsapplicationautoscaling.ScalableTarget
	ScaleOutAlarm awscloudwatch.Alarm
	ScaleInAlarm  awscloudwatch.Alarm
}

// ScalingProps configures the scaling of one service.
type ScalingProps struct {
	Cluster     awsecs.ICluster
	Service     awsecs.FargateService
	Spec        topology.Service
	AlarmPrefix string
}

// NewScaling creates the scalable target, the two policies and their alarms.
func NewScaling(scope constructs.Construct, id string, props ScalingProps) *Scaling {
	c := constructs.NewConstruct(scope, jsii.String(id))
	s := props.Spec
	// The service-linked role of Application Auto Scaling for ECS is the seed's "ECS Auto Scale
	// Role" with AWS's own policy; nothing hand-made.
	slr := awsiam.Role_FromRoleArn(c, jsii.String("ServiceLinkedRole"), awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":iam::"), awscdk.Aws_ACCOUNT_ID(),
		jsii.String(":role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService"),
	}), &awsiam.FromRoleArnOptions{Mutable: jsii.Bool(false)})
	target := awsapplicationautoscaling.NewScalableTarget(c, jsii.String("Target"), &awsapplicationautoscaling.ScalableTargetProps{
		ServiceNamespace:  awsapplicationautoscaling.ServiceNamespace_ECS,
		ScalableDimension: jsii.String("ecs:service:DesiredCount"),
		ResourceId: awscdk.Fn_Join(jsii.String("/"), &[]*string{
			jsii.String("service"), props.Cluster.ClusterName(), props.Service.ServiceName(),
		}),
		MinCapacity: jsii.Number(float64(s.MinCount)),
		MaxCapacity: jsii.Number(float64(s.MaxCount)),
		Role:        slr,
	})
	out := &Scaling{Target: target}
	out.ScaleOutAlarm = step(c, "ScaleOut", props, target, s.Scaling.ScaleOut, true)
	out.ScaleInAlarm = step(c, "ScaleIn", props, target, s.Scaling.ScaleIn, false)
	return out
}

// step creates one policy and its alarm: "metric > threshold → +n" or "metric < threshold → −n".
func step(scope constructs.Construct, id string, props ScalingProps, target awsapplicationautoscaling.ScalableTarget, st topology.Step, out bool) awscloudwatch.Alarm {
	agg := map[string]awsapplicationautoscaling.MetricAggregationType{
		"Average": awsapplicationautoscaling.MetricAggregationType_AVERAGE,
		"Minimum": awsapplicationautoscaling.MetricAggregationType_MINIMUM,
		"Maximum": awsapplicationautoscaling.MetricAggregationType_MAXIMUM,
	}[st.Statistic]
	action := awsapplicationautoscaling.NewStepScalingAction(scope, jsii.String(id+"Policy"), &awsapplicationautoscaling.StepScalingActionProps{
		ScalingTarget:         target,
		AdjustmentType:        awsapplicationautoscaling.AdjustmentType_CHANGE_IN_CAPACITY,
		Cooldown:              awscdk.Duration_Seconds(jsii.Number(props.Spec.Scaling.Cooldown.Seconds())),
		MetricAggregationType: agg,
	})
	// Step bounds are relative to the alarm threshold.
	adj := &awsapplicationautoscaling.AdjustmentTier{Adjustment: jsii.Number(float64(st.Adjustment))}
	cmp := awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD
	if out {
		adj.LowerBound = jsii.Number(0)
	} else {
		adj.UpperBound = jsii.Number(0)
		cmp = awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD
	}
	action.AddAdjustment(adj)
	metric := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:  jsii.String("AWS/ECS"),
		MetricName: jsii.String(props.Spec.Scaling.Metric),
		DimensionsMap: &map[string]*string{
			"ClusterName": props.Cluster.ClusterName(),
			"ServiceName": props.Service.ServiceName(),
		},
		Statistic: jsii.String(st.Statistic),
		Period:    awscdk.Duration_Seconds(jsii.Number(st.Period.Seconds())),
	})
	alarm := awscloudwatch.NewAlarm(scope, jsii.String(id+"Alarm"), &awscloudwatch.AlarmProps{
		AlarmName:          jsii.String(props.AlarmPrefix + st.AlarmName),
		AlarmDescription:   jsii.String("decagon " + props.Spec.Name + ": step scaling (" + id + ")"),
		Metric:             metric,
		Threshold:          jsii.Number(st.Threshold),
		EvaluationPeriods:  jsii.Number(float64(st.EvaluationPeriods)),
		DatapointsToAlarm:  jsii.Number(float64(st.EvaluationPeriods)),
		ComparisonOperator: cmp,
		TreatMissingData:   awscloudwatch.TreatMissingData_IGNORE,
	})
	alarm.AddAlarmAction(awscloudwatchactions.NewApplicationScalingAction(action))
	return alarm
}
