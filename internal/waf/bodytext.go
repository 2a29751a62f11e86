package waf

import (
	"io"
	"strconv"
	"strings"

	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// textProcessor is the name of the body processor for a body whose content type the operation
// does not declare (scopeText): ctl:requestBodyProcessor=DECAGON_TEXT.
const textProcessor = "decagon_text"

// textArg is the argument that holds such a body.
const textArg = "body"

// textBody reads a body as AWS WAF's body rules do, as one string: the whole (inspected) body
// is the argument "body" (ARGS_POST:body), so that every rule that reads arguments (CRS's SQL
// injection, XSS, RCE... and api-rules.conf) reads it, and REQUEST_BODY. Coraza's own
// processors do not fit: URLENCODED makes each line of a text an argument name (921150
// refuses any text of two lines), RAW only fills REQUEST_BODY, which few rules read, and XML
// refuses what does not parse (200002), where the stage's answer is its 415.
//
// Registering adds the processor for the whole process: the WAF is its only user.
type textBody struct{}

func init() {
	plugins.RegisterBodyProcessor(textProcessor, func() plugintypes.BodyProcessor { return textBody{} })
}

func (textBody) ProcessRequest(r io.Reader, v plugintypes.TransactionVariables, _ plugintypes.BodyProcessorOptions) error {
	var b strings.Builder
	if _, err := io.Copy(&b, r); err != nil {
		return err
	}
	s := b.String()
	v.ArgsPost().Set(textArg, []string{s})
	// The single-valued variables are Coraza's internal type; it has Set.
	if rb, ok := v.RequestBody().(interface{ Set(string) }); ok {
		rb.Set(s)
	}
	if rl, ok := v.RequestBodyLength().(interface{ Set(string) }); ok {
		rl.Set(strconv.Itoa(len(s)))
	}
	return nil
}

func (textBody) ProcessResponse(io.Reader, plugintypes.TransactionVariables, plugintypes.BodyProcessorOptions) error {
	return nil
}
