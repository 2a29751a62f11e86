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
//     AWS WAF on API Gateway does not inspect responses either) in anomaly scoring mode; a
//     request whose inbound anomaly score reaches the threshold is refused (403).
//
// In count mode every refusal above is only counted and logged; the request goes on.
//
// A refusal is an RFC 9457 problem carrying the request ID and nothing about the rules that
// matched; the log gets one JSON line per refused or counted request, shaped like an AWS WAF
// log record (action, terminatingRuleId, ruleGroupList, httpRequest, anomaly score).
//
// Request bodies are inspected up to Config.RequestBodyLimit bytes (16 KiB by default, as AWS
// WAF inspects for API Gateway). The inspected prefix is held in a pooled buffer and the rest
// of the body streams to the next handler untouched: a body past the limit is neither
// buffered whole nor refused for its size, and a structured body (JSON, multipart, XML) cut at
// the limit is inspected as far as it parses, its parse error not counted against it. A
// binary body (octet-stream, images...) is matched as it is, not parsed as a form.
//
// Speed: only the request phases run (no response rules, no response buffering, the response
// writer is not wrapped); a request without a body skips body processing; a phase-1 match past
// the threshold is refused before the body is read (CRS early blocking); and the @rx operator
// checks, before running a regexp, that the literals every match needs occur in the input
// (rx.go, prefilter.go), which saves a third to a half of the CPU of a clean request. The CRS
// regression corpus runs with every value the check rejects re-checked against the regexp
// (TestCRSRegression).
package waf
