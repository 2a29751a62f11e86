package main

import (
	"strings"
	"testing"
)

// The services read the RDS-managed password for each new connection (issue 14): every task
// gets the secret's ARN as DECAGON_DATABASE_SECRET_ARN, its task role may call GetSecretValue
// on that secret and nothing else of Secrets Manager, and the password is no ECS secret (an ECS
// secret is resolved once at task start, so a rotation would break new connections), which
// leaves the execution role without access to it.
func TestDatabaseSecret(t *testing.T) {
	for _, config := range []string{"v2-dev", "v2-prod", "three"} {
		s := synth(t, config)
		secretArn := js(getAtt(dbInstanceID(t, s), "MasterUserSecret.SecretArn"))
		for _, spec := range s.stacks.App.Config.Topology.Services {
			name := spec.Name
			t.Run(config+"/"+name, func(t *testing.T) {
				_, task := oneOf(t, serviceResources(s, name, "AWS::ECS::TaskDefinition"), "task definitions")
				container := get(task, "ContainerDefinitions", 0).(map[string]any)
				var arn any
				for _, e := range container["Environment"].([]any) {
					if get(e, "Name") == "DECAGON_DATABASE_SECRET_ARN" {
						arn = get(e, "Value")
					}
				}
				if js(arn) != secretArn {
					t.Errorf("DECAGON_DATABASE_SECRET_ARN = %s, want %s", js(arn), secretArn)
				}
				if container["Secrets"] != nil {
					t.Errorf("container secrets %s, want none", js(container["Secrets"]))
				}
				taskRole := js(ref(roleID(t, task, "TaskRoleArn")))
				execRole := js(ref(roleID(t, task, "ExecutionRoleArn")))
				var grants []string
				for id, p := range s.resources("AWS::IAM::Policy") {
					roles := js(p["Roles"])
					for _, st := range get(p, "PolicyDocument", "Statement").([]any) {
						if !strings.Contains(js(get(st, "Action")), "secretsmanager:") {
							continue
						}
						switch {
						case strings.Contains(roles, taskRole):
							grants = append(grants, js(get(st, "Action"))+" on "+js(get(st, "Resource")))
						case strings.Contains(roles, execRole):
							t.Errorf("the execution role may still read a secret (%s): %s", id, js(st))
						}
					}
				}
				want := `"secretsmanager:GetSecretValue" on ` + secretArn
				if len(grants) != 1 || grants[0] != want {
					t.Errorf("task role's Secrets Manager grants %v, want exactly [%s]", grants, want)
				}
			})
		}
	}
}

// dbInstanceID is the logical ID of the RDS instance.
func dbInstanceID(t *testing.T, s *synthesized) string {
	t.Helper()
	id, _ := s.one(t, "AWS::RDS::DBInstance")
	return id
}

// roleID is the logical ID of the role a task definition names in key ({"Fn::GetAtt": [ID, "Arn"]}).
func roleID(t *testing.T, task map[string]any, key string) string {
	t.Helper()
	id, ok := get(task, key, "Fn::GetAtt", 0).(string)
	if !ok {
		t.Fatalf("%s = %s, want a GetAtt of a role", key, js(task[key]))
	}
	return id
}
