package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	elb "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Monitoring is the seed's "monitoring system for failure/error or issues": alarms to an SNS
// topic and a dashboard of the same metrics.
type Monitoring struct {
	Topic     awssns.Topic
	Alarms    []awscloudwatch.Alarm
	Dashboard awscloudwatch.Dashboard
}

// MonitoringProps is what is watched.
type MonitoringProps struct {
	// AlarmEmail, when set, is subscribed to the topic.
	AlarmEmail string
	API        *API
	Firewall   *Firewall
	Services   []*Service
	Database   awsrds.DatabaseInstance
	// ALB is the load balancer whose target groups are watched.
	ALB elb.ApplicationLoadBalancer
}

// NewMonitoring creates the topic (encrypted with its own key, TLS only), the alarms and the
// dashboard.
func NewMonitoring(scope constructs.Construct, id string, props MonitoringProps) *Monitoring {
	c := constructs.NewConstruct(scope, jsii.String(id))
	// CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key.
	key := awskms.NewKey(c, jsii.String("TopicKey"), &awskms.KeyProps{
		EnableKeyRotation: jsii.Bool(true),
		Description:       jsii.String("decagon alarm topic"),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
	})
	key.GrantEncryptDecrypt(awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil))
	topic := awssns.NewTopic(c, jsii.String("Alarms"), &awssns.TopicProps{
		DisplayName: jsii.String("decagon alarms"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	if props.AlarmEmail != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(props.AlarmEmail), nil))
	}
	m := &Monitoring{Topic: topic}
	five := awscdk.Duration_Minutes(jsii.Number(5))
	one := awscdk.Duration_Minutes(jsii.Number(1))
	alarm := func(id string, metric awscloudwatch.IMetric, threshold float64, periods int, cmp awscloudwatch.ComparisonOperator, what string) {
		a := awscloudwatch.NewAlarm(c, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String("decagon: " + what),
			Metric:             metric,
			Threshold:          jsii.Number(threshold),
			EvaluationPeriods:  jsii.Number(float64(periods)),
			ComparisonOperator: cmp,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		a.AddAlarmAction(awscloudwatchactions.NewSnsAction(topic))
		m.Alarms = append(m.Alarms, a)
	}
	gt := awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD
	lt := awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD

	api := props.API.Rest
	api5xx := api.MetricServerError(&awscloudwatch.MetricOptions{Statistic: jsii.String("Average"), Period: five})
	api4xx := api.MetricClientError(&awscloudwatch.MetricOptions{Statistic: jsii.String("Average"), Period: five})
	apiP99 := api.MetricLatency(&awscloudwatch.MetricOptions{Statistic: jsii.String("p99"), Period: five})
	alarm("Api5xxRate", api5xx, 0.01, 1, gt, "API 5XX rate above 1 % over 5 minutes")
	alarm("Api4xxRate", api4xx, 0.2, 1, gt, "API 4XX rate above 20 % over 5 minutes")
	alarm("ApiLatencyP99", apiP99, 3000, 2, gt, "API latency p99 above 3 s for 10 minutes")
	wafBlocked := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:  jsii.String("AWS/WAFV2"),
		MetricName: jsii.String("BlockedRequests"),
		DimensionsMap: &map[string]*string{
			"WebACL": props.Firewall.ACL.Name(), "Rule": jsii.String("ALL"), "Region": awscdk.Aws_REGION(),
		},
		Statistic: jsii.String("Sum"),
		Period:    five,
	})
	alarm("WafBlockedSpike", wafBlocked, 500, 1, gt, "more than 500 requests blocked by the WAF in 5 minutes")

	var svcWidgets []awscloudwatch.IWidget
	for _, s := range props.Services {
		n := s.Spec.Name
		unhealthy := s.TargetGroup.Metrics().UnhealthyHostCount(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: one})
		t5xx := s.TargetGroup.Metrics().HttpCodeTarget(elb.HttpCodeTarget_TARGET_5XX_COUNT, &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: one})
		cpu := s.Fargate.MetricCpuUtilization(&awscloudwatch.MetricOptions{Statistic: jsii.String("Average"), Period: five})
		mem := s.Fargate.MetricMemoryUtilization(&awscloudwatch.MetricOptions{Statistic: jsii.String("Average"), Period: five})
		// The target 5XX and unhealthy-target alarms are the service's deployment alarms (they
		// roll a release back); the topic hears them too.
		for _, a := range s.DeploymentAlarms {
			a.AddAlarmAction(awscloudwatchactions.NewSnsAction(topic))
			m.Alarms = append(m.Alarms, a)
		}
		alarm(svcID(n, "Cpu"), cpu, 90, 3, gt, n+": CPU above 90 % for 15 minutes (at max tasks, scaling cannot help)")
		alarm(svcID(n, "Memory"), mem, 90, 3, gt, n+": memory above 90 % for 15 minutes")
		svcWidgets = append(svcWidgets,
			graph(n+": CPU and memory %", cpu, mem),
			graph(n+": unhealthy targets, target 5XX", unhealthy, t5xx))
	}
	db := props.Database
	dbCPU := db.MetricCPUUtilization(&awscloudwatch.MetricOptions{Period: five})
	dbFree := db.MetricFreeStorageSpace(&awscloudwatch.MetricOptions{Period: five})
	dbConn := db.MetricDatabaseConnections(&awscloudwatch.MetricOptions{Period: five})
	alarm("DbCpu", dbCPU, 80, 3, gt, "database CPU above 80 % for 15 minutes")
	alarm("DbFreeStorage", dbFree, 2*1024*1024*1024, 1, lt, "database free storage below 2 GiB")
	alarm("DbConnections", dbConn, 80, 2, gt, "more than 80 database connections for 10 minutes")

	dash := awscloudwatch.NewDashboard(c, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(3)),
	})
	dash.AddWidgets(graph("API 5XX and 4XX rate", api5xx, api4xx), graph("API latency p99 (ms)", apiP99), graph("WAF blocked requests", wafBlocked))
	for i := 0; i < len(svcWidgets); i += 2 {
		dash.AddWidgets(svcWidgets[i : i+2]...)
	}
	dash.AddWidgets(graph("Database CPU %", dbCPU), graph("Database free storage (bytes)", dbFree), graph("Database connections", dbConn))
	m.Dashboard = dash
	return m
}

func graph(title string, metrics ...awscloudwatch.IMetric) awscloudwatch.GraphWidget {
	return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Left: &metrics, Width: jsii.Number(8)})
}

func svcID(service, what string) string { return fmt.Sprintf("Svc-%s-%s", service, what) }
