// Package topology loads and validates decagon.yaml, the one description of decagon's
// topology that the CDK app (infra/), the local edge and `decagon dev` all read: the services
// behind the load balancer, their path rules, health checks, task sizes and scaling, the API
// Gateway stage with its throttling, the VPC link mode and the WAF settings.
//
// Load (a file) and Parse (bytes) decode strictly — an unknown or duplicate key is an error —
// fill defaults for missing keys (the seed's and AWS's values), then validate against the
// rules of ALB, ECS, Fargate, API Gateway and AWS WAF. Every problem is reported at once
// (errors.Join of *FieldError), each naming its key path and line:
//
//	services[1].healthCheck.interval: must be between 5s and 5m0s, got 1s (line 42)
//
// # Format
//
// Durations are strings with a unit ("30s", "5m"). Defaults are in parentheses.
//
//	vpcLink: v2 | v1                      (v2) VPC link V2 to the ALB, or V1 via an internal NLB
//	stage:
//	  name: Test                          (Test) letters, digits, '-', '_'
//	  throttling:
//	    rateLimit: 100                    (100) requests/s, 0 < r ≤ 10000
//	    burstLimit: 200                   (200) 1..5000
//	    methods:                          per operation, "METHOD /path" as in api/openapi.yaml
//	      "POST /upload": {rateLimit: 10, burstLimit: 20}
//	waf:
//	  mode: block | count                 (block)
//	  paranoiaLevel: 1                    (1) CRS paranoia level 1..4 (local edge)
//	  anomalyThreshold: 5                 (5) CRS inbound anomaly threshold (local edge)
//	  requestBodyLimit: 16384             (16384) bytes inspected of other bodies: 16, 32, 48 or 64 KiB
//	  body:                               per kind of body api/openapi.yaml declares
//	    json: {inspectLimit: 131072, oversize: MATCH}     JSON operations; 1 KiB..1 MiB
//	    upload: {inspectLimit: 16384, oversize: CONTINUE} multipart uploads; raw files are not read
//	                                      oversize: CONTINUE | MATCH | NO_MATCH (AWS WAF's)
//	  rateLimit: {limit: 1000, window: 300s}  limit ≥ 10 per IP; window 60s, 120s, 300s or 600s
//	  ipSets: {allow: [CIDR...], block: [CIDR...]}  IPv4 and IPv6, host bits clear
//	  exclusions:                         CRS rules switched off, on some paths or everywhere
//	    - {ids: [920420], paths: ["/upload/*"], reason: "..."}
//	services:                             at least one; names and rule priorities unique
//	  - name: tests                       `decagon serve tests`; [a-z][a-z0-9-]{0,19}
//	    port: 8080                        (8080) 1024..65535: the image runs as non-root
//	    pathRules:                        ALB listener rules, lowest priority evaluated first
//	      - priority: 10                  1..50000
//	        paths: ["/test", "/test/*"]   1..5 ALB path patterns ('*', '?', case-sensitive)
//	    healthCheck:
//	      path: /health-check             (/health-check)
//	      interval: 30s                   (30s) ALB: 5s..300s, whole seconds
//	      timeout: 5s                     (5s) ALB: 2s..120s, less than interval
//	      healthyThreshold: 5             (5) 2..10
//	      unhealthyThreshold: 2           (2) 2..10
//	      successCodes: "200"             ("200") e.g. "200", "200,204", "200-299"
//	      local: {interval: 1s, timeout: 1s, healthyThreshold: 2, unhealthyThreshold: 2}
//	    cpu: 256                          (256) Fargate CPU units
//	    memory: 512                       (512) MiB, a valid Fargate combination with cpu
//	    memoryReservation: 100            (100) MiB soft limit, 0 = none, below memory
//	    desiredCount: 2                   (2) minCount ≤ desiredCount ≤ maxCount
//	    minCount: 2                       (2)
//	    maxCount: 4                       (4)
//	    deployment: {minHealthyPercent: 50, maxPercent: 100}   (50, 100)
//	    scaling:
//	      metric: CPUUtilization          (CPUUtilization) or MemoryUtilization
//	      cooldown: 300s                  (300s)
//	      scaleOut: {alarmName: ECS_Fargate_Container_Scaleout_CPU_Utilisation,
//	                 statistic: Minimum, threshold: 70, period: 300s, evaluationPeriods: 1,
//	                 adjustment: 1}
//	      scaleIn:  {alarmName: ECS_Fargate_Container_Scalein_CPU_Utilisation,
//	                 statistic: Minimum, threshold: 50, period: 300s, evaluationPeriods: 1,
//	                 adjustment: -1}
//
// The health check's interval, timeout and thresholds are used in AWS; the local edge uses
// HealthCheck.ForLocal, which takes them from healthCheck.local. Match resolves a request path
// to its service with ALB listener semantics.
//
// The package imports nothing of decagon's: the CDK app, the edge, the balancer and the WAF
// all read it, so it stays a leaf.
package topology
