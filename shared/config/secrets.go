package config

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// ParameterSuffix makes the variable that names a secret's SSM parameter:
// NAME_PARAMETER names the parameter that holds the secret NAME.
const ParameterSuffix = "_PARAMETER"

// DevSecret is every secret's default on the local stack; it is refused
// anywhere else.
const DevSecret = "dev-secret"

// MinSecretLength is the fewest bytes a secret's key may have outside the
// local stack: the output size of HMAC-SHA256, the shortest key RFC 2104
// recommends for it.
const MinSecretLength = 32

// maxNamesPerCall is how many names one SSM GetParameters call may ask for.
const maxNamesPerCall = 10

// Parameters is what Secrets needs of SSM Parameter Store (*ssm.Client).
type Parameters interface {
	GetParameters(ctx context.Context, in *ssm.GetParametersInput, optFns ...func(*ssm.Options)) (*ssm.GetParametersOutput, error)
}

// Secret asks Secrets for one secret variable.
type Secret struct {
	Name string
	// Optional secrets may be absent (no variable, or no such
	// parameter); they are then "".
	Optional bool
	// Vendor secrets are issued by another service (a review app's
	// signing secret or API token), which chooses their length: outside
	// the local stack only an empty key and the local default are
	// refused, not a short one.
	Vendor bool
}

// SecretValues are the secrets Secrets read, by variable name.
type SecretValues map[string]string

// Keys splits a secret into its keys, separated by white space: the
// current one first, then the earlier ones still accepted while the secret
// rotates.
func (v SecretValues) Keys(name string) []string { return strings.Fields(v[name]) }

// Secrets reads secrets once, at cold start. A secret NAME comes from the
// SSM parameter that NAME_PARAMETER names (a SecureString, or a Secrets
// Manager secret through its /aws/reference/secretsmanager/ name), all of
// them in one GetParameters call with decryption; params is called only
// when there is one to read. On the local stack (Local) a secret may also
// be the plain variable NAME. Outside it, a plain variable, DevSecret, a
// key shorter than MinSecretLength and a parameter that is not a
// SecureString are refused. Problems name the variable, never the value,
// and are reported by Err with the others; a failed call to SSM is
// returned.
func (e *Env) Secrets(ctx context.Context, params func() Parameters, secrets ...Secret) (SecretValues, error) {
	local := e.Local()
	values := SecretValues{}
	byParameter := map[string][]Secret{}
	for _, s := range secrets {
		parameter, _ := e.lookup(s.Name + ParameterSuffix)
		plain, _ := e.lookup(s.Name)
		switch {
		case strings.TrimSpace(parameter) != "":
			byParameter[parameter] = append(byParameter[parameter], s)
		case local && strings.TrimSpace(plain) != "":
			values[s.Name] = plain
		case !local && plain != "":
			e.problems = append(e.problems, fmt.Sprintf("%s: outside the local stack secrets come from SSM Parameter Store; set %s%s to the name of the SecureString parameter holding it and unset %s",
				s.Name, s.Name, ParameterSuffix, s.Name))
		case !s.Optional && local:
			e.problems = append(e.problems, s.Name+" is required")
		case !s.Optional:
			e.problems = append(e.problems, s.Name+ParameterSuffix+" is required (the SSM parameter holding "+s.Name+")")
		}
	}
	if len(byParameter) > 0 {
		names := make([]string, 0, len(byParameter))
		for n := range byParameter {
			names = append(names, n)
		}
		slices.Sort(names)
		client := params()
		for chunk := range slices.Chunk(names, maxNamesPerCall) {
			out, err := client.GetParameters(ctx, &ssm.GetParametersInput{Names: chunk, WithDecryption: aws.Bool(true)})
			if err != nil {
				return nil, fmt.Errorf("read secrets from SSM Parameter Store: %w", err)
			}
			for _, p := range out.Parameters {
				for _, s := range answered(byParameter, p) {
					if !local && p.Type != types.ParameterTypeSecureString {
						e.problems = append(e.problems, fmt.Sprintf("%s%s: parameter %s is a %s; store secrets as SecureString", s.Name, ParameterSuffix, aws.ToString(p.Name), p.Type))
						continue
					}
					values[s.Name] = aws.ToString(p.Value)
				}
			}
			for _, missing := range out.InvalidParameters {
				for _, s := range byParameter[missing] {
					if !s.Optional {
						e.problems = append(e.problems, fmt.Sprintf("%s%s: no parameter %s", s.Name, ParameterSuffix, missing))
					}
					delete(byParameter, missing)
				}
			}
		}
		// Every required secret has its value or its problem: SSM
		// answering under a name other than the one asked must not leave
		// a secret silently empty.
		for name, wanted := range byParameter {
			for _, s := range wanted {
				if _, ok := values[s.Name]; !ok && !s.Optional && !e.hasProblem(s.Name) {
					e.problems = append(e.problems, fmt.Sprintf("%s%s: SSM returned no value for %s", s.Name, ParameterSuffix, name))
				}
			}
		}
	}
	if !local {
		for _, s := range secrets {
			if v, ok := values[s.Name]; ok {
				e.checkStrong(s, v)
			}
		}
	}
	return values, nil
}

// answered lists the secrets an SSM answer is for: asked by its name, or
// with a version or label selector (name:2), or by ARN, which SSM answers
// under the plain name.
func answered(byParameter map[string][]Secret, p types.Parameter) []Secret {
	name, arn, selector := aws.ToString(p.Name), aws.ToString(p.ARN), aws.ToString(p.Selector)
	asked := []string{name}
	if arn != "" {
		asked = append(asked, arn)
	}
	if selector != "" {
		asked = append(asked, name+selector)
		if arn != "" {
			asked = append(asked, arn+selector)
		}
	}
	var out []Secret
	for _, a := range asked {
		out = append(out, byParameter[a]...)
	}
	return out
}

// hasProblem reports whether a problem names the secret already.
func (e *Env) hasProblem(name string) bool {
	for _, p := range e.problems {
		if strings.HasPrefix(p, name+ParameterSuffix+":") || strings.HasPrefix(p, name+" ") {
			return true
		}
	}
	return false
}

// checkStrong records a problem for a secret with no key, or a key that
// is the local default or too short to be one.
func (e *Env) checkStrong(s Secret, value string) {
	name := s.Name
	keys := strings.Fields(value)
	if len(keys) == 0 {
		e.problems = append(e.problems, name+" is empty")
	}
	for i, k := range keys {
		which := "its key"
		if len(keys) > 1 {
			which = fmt.Sprintf("its key %d of %d", i+1, len(keys))
		}
		switch {
		case k == DevSecret:
			e.problems = append(e.problems, fmt.Sprintf("%s: %s is the local stack's %s; set a real secret (at least %d random bytes, such as `openssl rand -hex 32`)", name, which, DevSecret, MinSecretLength))
		case len(k) < MinSecretLength && !s.Vendor:
			e.problems = append(e.problems, fmt.Sprintf("%s: %s has %d bytes; at least %d outside the local stack (such as `openssl rand -hex 32`)", name, which, len(k), MinSecretLength))
		}
	}
}
