package topology

import "time"

// Defaults: the seed's values, ALB's and AWS WAF's. A key missing from decagon.yaml takes these.
const (
	DefaultPort              = 8080
	DefaultHealthCheckPath   = "/health-check"
	DefaultCPU               = 256
	DefaultMemory            = 512
	DefaultMemoryReservation = 100
	DefaultDesiredCount      = 2
	DefaultMinCount          = 2
	DefaultMaxCount          = 4
	DefaultStageName         = "Test"
	DefaultRequestBodyLimit  = 16 << 10
)

func (t *Topology) setDefaults() {
	t.VPCLink = VPCLinkV2
	t.Stage = Stage{
		Name:       DefaultStageName,
		Throttling: Throttling{RateLimit: 100, BurstLimit: 200},
	}
	t.WAF = DefaultWAF()
}

func (s *Service) setDefaults() {
	*s = Service{
		Port: DefaultPort,
		HealthCheck: HealthCheck{
			Path:               DefaultHealthCheckPath,
			Interval:           30 * time.Second, // ALB's defaults
			Timeout:            5 * time.Second,
			HealthyThreshold:   5,
			UnhealthyThreshold: 2,
			SuccessCodes:       "200",
			Local: CheckTiming{
				Interval:           time.Second,
				Timeout:            time.Second,
				HealthyThreshold:   2,
				UnhealthyThreshold: 2,
			},
		},
		CPU:               DefaultCPU,
		Memory:            DefaultMemory,
		MemoryReservation: DefaultMemoryReservation,
		DesiredCount:      DefaultDesiredCount,
		MinCount:          DefaultMinCount,
		MaxCount:          DefaultMaxCount,
		Deployment:        Deployment{MinHealthyPercent: 50, MaxPercent: 100},
		Scaling: Scaling{
			Metric:   "CPUUtilization",
			Cooldown: 5 * time.Minute,
			ScaleOut: Step{
				AlarmName:         "ECS_Fargate_Container_Scaleout_CPU_Utilisation",
				Statistic:         "Minimum",
				Threshold:         70,
				Period:            5 * time.Minute,
				EvaluationPeriods: 1,
				Adjustment:        1,
			},
			ScaleIn: Step{
				AlarmName:         "ECS_Fargate_Container_Scalein_CPU_Utilisation",
				Statistic:         "Minimum",
				Threshold:         50,
				Period:            5 * time.Minute,
				EvaluationPeriods: 1,
				Adjustment:        -1,
			},
		},
	}
}
