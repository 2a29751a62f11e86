package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// adminGroup is the group whose members see every record.
const adminGroup = "admin"

// apiScopes are the OAuth scopes of the API's resource server: read for GET, write for POST
// and DELETE. Machine callers (client_credentials) get access tokens carrying them; the
// operations of api/openapi.yaml name them.
var apiScopes = []string{"decagon/read", "decagon/write"}

// Identity is the seed's Amazon Cognito: a user pool, the admin group, the resource server
// with the API's scopes, an app client for people and one for machines, and the hosted domain
// whose token endpoint machines call.
type Identity struct {
	Pool awscognito.UserPool
	// Client is the people's app client: no secret, password/SRP sign-in and the
	// authorization-code flow with the API's scopes.
	Client awscognito.UserPoolClient
	// Machine is the services' app client: a secret and the client_credentials flow.
	Machine awscognito.UserPoolClient
	// TokenURL is the OAuth 2.0 token endpoint.
	TokenURL *string
}

// IdentityProps configures the user pool.
type IdentityProps struct {
	// Scopes are the OAuth scopes api/openapi.yaml asks for ("decagon/tests.write"), added to
	// apiScopes; a resource server is created for each identifier before the last '/'.
	Scopes []string
	// Prod turns deletion protection on and retains the pool on stack deletion.
	Prod bool
}

// NewIdentity creates the pool: e-mail sign-in, a strong password policy, optional MFA (TOTP),
// no self sign-up (an administrator creates users), and a public app client (no secret) for
// USER_PASSWORD_AUTH and SRP.
func NewIdentity(scope constructs.Construct, id string, props IdentityProps) *Identity {
	c := constructs.NewConstruct(scope, jsii.String(id))
	removal := awscdk.RemovalPolicy_DESTROY
	if props.Prod {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	pool := awscognito.NewUserPool(c, jsii.String("UserPool"), &awscognito.UserPoolProps{
		SignInAliases:     &awscognito.SignInAliases{Email: jsii.Bool(true)},
		AutoVerify:        &awscognito.AutoVerifiedAttrs{Email: jsii.Bool(true)},
		SelfSignUpEnabled: jsii.Bool(false),
		Mfa:               awscognito.Mfa_OPTIONAL,
		MfaSecondFactor:   &awscognito.MfaSecondFactor{Otp: jsii.Bool(true), Sms: jsii.Bool(false)},
		PasswordPolicy: &awscognito.PasswordPolicy{
			MinLength:            jsii.Number(12),
			RequireDigits:        jsii.Bool(true),
			RequireLowercase:     jsii.Bool(true),
			RequireUppercase:     jsii.Bool(true),
			RequireSymbols:       jsii.Bool(true),
			TempPasswordValidity: awscdk.Duration_Days(jsii.Number(3)),
		},
		AccountRecovery:    awscognito.AccountRecovery_EMAIL_ONLY,
		DeletionProtection: jsii.Bool(props.Prod),
		RemovalPolicy:      removal,
	})
	awscognito.NewCfnUserPoolGroup(c, jsii.String("AdminGroup"), &awscognito.CfnUserPoolGroupProps{
		UserPoolId:  pool.UserPoolId(),
		GroupName:   jsii.String(adminGroup),
		Description: jsii.String("decagon administrators: see every record"),
	})
	var oauthScopes []awscognito.OAuthScope
	for _, rs := range resourceServers(append(slices.Clone(apiScopes), props.Scopes...)) {
		var scopes []awscognito.ResourceServerScope
		for _, name := range rs.names {
			scopes = append(scopes, awscognito.NewResourceServerScope(&awscognito.ResourceServerScopeProps{
				ScopeName:        jsii.String(name),
				ScopeDescription: jsii.String(fmt.Sprintf("decagon %s/%s", rs.identifier, name)),
			}))
		}
		server := pool.AddResourceServer(jsii.String("ResourceServer"+identifierID(rs.identifier)), &awscognito.UserPoolResourceServerOptions{
			Identifier: jsii.String(rs.identifier),
			Scopes:     &scopes,
		})
		for _, s := range scopes {
			oauthScopes = append(oauthScopes, awscognito.OAuthScope_ResourceServer(server, s))
		}
	}
	client := pool.AddClient(jsii.String("Client"), &awscognito.UserPoolClientOptions{
		GenerateSecret:             jsii.Bool(false),
		AuthFlows:                  &awscognito.AuthFlow{UserPassword: jsii.Bool(true), UserSrp: jsii.Bool(true)},
		PreventUserExistenceErrors: jsii.Bool(true),
		EnableTokenRevocation:      jsii.Bool(true),
		IdTokenValidity:            awscdk.Duration_Hours(jsii.Number(1)),
		AccessTokenValidity:        awscdk.Duration_Hours(jsii.Number(1)),
		RefreshTokenValidity:       awscdk.Duration_Days(jsii.Number(30)),
		OAuth: &awscognito.OAuthSettings{
			Flows:  &awscognito.OAuthFlows{AuthorizationCodeGrant: jsii.Bool(true)},
			Scopes: scopesOrDefault(oauthScopes),
		},
	})
	// Machine callers: a confidential client that may only mint access tokens with the API's
	// scopes (client_credentials has no user, so no ID token and no OIDC scopes).
	machine := pool.AddClient(jsii.String("MachineClient"), &awscognito.UserPoolClientOptions{
		GenerateSecret:             jsii.Bool(true),
		AuthFlows:                  &awscognito.AuthFlow{},
		PreventUserExistenceErrors: jsii.Bool(true),
		EnableTokenRevocation:      jsii.Bool(true),
		AccessTokenValidity:        awscdk.Duration_Hours(jsii.Number(1)),
		OAuth: &awscognito.OAuthSettings{
			Flows:  &awscognito.OAuthFlows{ClientCredentials: jsii.Bool(true)},
			Scopes: &oauthScopes,
		},
	})
	// The token endpoint lives on the pool's domain; the prefix must be unique in the region.
	domain := pool.AddDomain(jsii.String("Domain"), &awscognito.UserPoolDomainOptions{
		CognitoDomain: &awscognito.CognitoDomainOptions{
			DomainPrefix: awscdk.Fn_Join(jsii.String("-"), &[]*string{awscdk.Stack_Of(c).StackName(), awscdk.Aws_ACCOUNT_ID()}),
		},
	})
	tokenURL := awscdk.Fn_Join(jsii.String(""), &[]*string{domain.BaseUrl(nil), jsii.String("/oauth2/token")})
	return &Identity{Pool: pool, Client: client, Machine: machine, TokenURL: tokenURL}
}

// resourceServer is one identifier and the scope names under it.
type resourceServer struct {
	identifier string
	names      []string
}

// resourceServers groups scopes "id/name" by identifier (scopes without '/' go under
// "decagon"), sorted for a stable template.
func resourceServers(scopes []string) []resourceServer {
	byID := map[string][]string{}
	for _, s := range scopes {
		id, name := "decagon", s
		if i := strings.LastIndex(s, "/"); i > 0 {
			id, name = s[:i], s[i+1:]
		}
		if !slices.Contains(byID[id], name) {
			byID[id] = append(byID[id], name)
		}
	}
	var out []resourceServer
	for id, names := range byID {
		slices.Sort(names)
		out = append(out, resourceServer{identifier: id, names: names})
	}
	slices.SortFunc(out, func(a, b resourceServer) int { return strings.Compare(a.identifier, b.identifier) })
	return out
}

// identifierID turns a resource server identifier into a construct ID fragment.
func identifierID(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// scopesOrDefault keeps the OIDC scopes when the document asks for none of its own.
func scopesOrDefault(s []awscognito.OAuthScope) *[]awscognito.OAuthScope {
	// aws.cognito.signin.user.admin is the scope every operation of api/openapi.yaml accepts
	// from a person: a sign-in through the authorization code flow must be able to carry it.
	s = append([]awscognito.OAuthScope{awscognito.OAuthScope_OPENID(), awscognito.OAuthScope_EMAIL(),
		awscognito.OAuthScope_COGNITO_ADMIN()}, s...)
	return &s
}
