// Package waf is decagon's local web application firewall: the equivalent of the AWS WAF web
// ACL that protects the deployed API Gateway stage, run by the edge in front of its stage
// router.
//
// A request passes, in this order (as AWS WAF evaluates a web ACL's rules by priority and an
// allow or block action ends the evaluation):
//
//  1. the IP block set: a client in it is refused (403);
//  2. the IP allow set: a client in it is passed on at once, skipping the rate-based rule and
//     the rule groups, as an AWS WAF allow rule terminates the evaluation;
//  3. the rate-based rule: more than Limit requests from one client IP within the sliding
//     window are refused with 429 and Retry-After;
//  4. the rule groups: Coraza with the OWASP Core Rule Set (embedded, request rules only, since
//     AWS WAF on API Gateway does not inspect responses either) and decagon's own rules
//     (api-rules.conf: the attacks CRS at paranoia level 1 misses on an API) in anomaly scoring
//     mode; a request whose inbound anomaly score reaches the threshold is refused (403).
//
// In count mode every refusal above is only counted and logged; the request goes on.
//
// A refusal is an RFC 9457 problem carrying the request ID and, in its detail, the rules that
// matched with their messages; the log gets one JSON line per refused or counted request,
// shaped like an AWS WAF log record (action, terminatingRuleId, ruleGroupList, httpRequest,
// anomaly score) plus matchedRules and a readable reason. A request that cannot be inspected
// (its body cannot be read, the engine fails) is refused: the WAF fails closed.
//
// Settings: Config embeds topology.WAF, decagon.yaml's waf section as topology decoded and
// validated it; this package keeps no copy of its defaults or rules.
//
// Bodies (operations.go): each request is matched to its operation of api/openapi.yaml, and its
// body handled by what the operation declares: a JSON body of a JSON operation by the JSON
// processor up to Body.JSON.InspectLimit, a malformed one left to the stage's 400; a multipart
// upload parsed (names, file names, fields) up to Body.Upload.InspectLimit; any other upload
// body (a file) not read. A content type the operation does not declare is read as AWS WAF,
// which runs before API Gateway, reads it (an attack is refused, a clean body gets the stage's
// 415): a form as its arguments, anything else as one text argument (bodytext.go), within
// Body.JSON's limit and oversize handling.
// A body past its limit is handled as AWS WAF's oversize handling says: CONTINUE (the prefix is
// inspected, the rest streams to the next handler untouched, never buffered whole), MATCH
// (refused) or NO_MATCH (the body rules are skipped). Bodies outside the document take CRS's
// defaults up to RequestBodyLimit, CONTINUE.
//
// False positives: argument values (query, form, multipart, JSON) are out of CRS's
// command-word and code-name rules, which api-rules.conf replaces with rules that need the
// attack in the shape it runs in (valueTargets in rules.go; TestProseInValues). Coraza's
// utf8toUnicode is replaced (transformations.go): it writes as %uXXXX only the characters
// urlDecodeUni's best-fit table folds to ASCII, so text in other scripts is not reduced to the
// low bytes of its code points, which libinjection read as SQL (TestNonLatinScripts). Rules
// 10270-10272 decode a base64-shaped value only when it decodes to text (base64DecodeText), so
// hex digests and random IDs are not matched as bytes (TestBase64ShapedValuesPass).
//
// Speed: only the request phases run (no response rules, no response buffering, the response
// writer is not wrapped); a request without a body skips body processing; a phase-1 match past
// the threshold is refused before the body is read (CRS early blocking). Beyond that, the work
// per request is cut where profiling found it, each cut with a test that holds it to changing
// no verdict:
//   - the @rx operator checks, in one pass over the input, that the literals every match needs
//     occur in it before running a regexp (rx.go, prefilter.go; TestCRSRegression re-checks
//     every value the check rejects, FuzzPrefilter every CRS pattern), and captures groups only
//     once a regexp matched;
//   - the paranoia level's decisions and REQUEST-901's constant defaults are taken when the
//     rules compile, not per request (paranoia.go, setup.go; TestParanoiaPruning,
//     TestSetupFolding);
//   - rules' logdata is not expanded (actions.go): Coraza did that for every rule evaluation;
//   - a bearer JWT in Authorization reaches the rules as a placeholder of its shape (inspect.go;
//     TestBearerJWTNeverMatches);
//   - the regexps run on RE2 (rx.go).
//
// It may import topology (its settings), api (the document), problem and web (the refusal),
// Coraza and the embedded CRS; nothing of the edge or the services.
package waf
